# README figures come from measurements, never from typing.
#   make readme-table   rewrite README.md's benchmark table from bench/results.json
#                       (after `make bench` wrote new results)
#   make readme-check   (in TEST_TARGETS) fail when README.md's table differs from
#                       what bench/results.json gives
.PHONY: readme-table readme-check
TEST_TARGETS += readme-check

readme-table:
	sh bench/readme-table.sh --write README.md

readme-check:
	shellcheck bench/readme-table.sh
	sh bench/readme-table.sh --check README.md
