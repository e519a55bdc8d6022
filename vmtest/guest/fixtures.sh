# shellcheck shell=sh
# The test's expected values, written down by hand (and checked against
# the published v6 plus example), not computed by the code under test.
# shellcheck disable=SC2034

V6PLUS_BR=2404:9200:225:100::64
V6PLUS_OFFSET=4
V6PLUS_PSIDLEN=8
OCN_BR=2001:380:a120::9
OCN_OFFSET=6
OCN_PSIDLEN=6

# CE1 and CE2 share 14.8.52.86 (v6 plus), PSIDs 120 and 121.
CE1_PREFIX=240b:12:3456:7800::/56
CE1_ADDR=240b:12:3456:7800:e:834:5600:7800
# The same CE address in the RFC 7597 layout: a CE using it is refused by the BR.
CE1_RFCADDR=240b:12:3456:7800:0:e08:3456:78
CE1_IPV4=14.8.52.86
CE1_PSID=120
CE2_PREFIX=240b:12:3456:7900::/56
CE2_ADDR=240b:12:3456:7900:e:834:5600:7900
CE2_IPV4=14.8.52.86
CE2_PSID=121
# CE1 after its delegated prefix changed.
CE1B_PREFIX=240b:12:3456:7a00::/56
CE1B_ADDR=240b:12:3456:7a00:e:834:5600:7a00
CE1B_IPV4=14.8.52.86
CE1B_PSID=122
# CE1 after its prefix moved to another IPv4 (same PSID): issue 12's
# stale-SNAT case.
CE1C_PREFIX=240b:12:3457:7800::/56
CE1C_ADDR=240b:12:3457:7800:e:834:5700:7800
CE1C_IPV4=14.8.52.87
CE1C_PSID=120
# CE3: OCN virtual connect, 63 sets of 16 = 1008 ports.
CE3_PREFIX=2400:4050:1234:5600::/56
CE3_ADDR=2400:4050:1234:5600:99:f048:d100:1600
CE3_IPV4=153.240.72.209
CE3_PSID=22
# ce3 has no delegated prefix, only a /64 address on its WAN (the common
# OCN setup): up runs without --prefix and must find it on the link.
CE3_LINKADDR=2400:4050:1234:5600::1234/64

SERVER=203.0.113.10
