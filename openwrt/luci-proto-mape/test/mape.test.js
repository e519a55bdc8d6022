// Tests of protocol/mape.js against the LuCI stand-in in harness.js.
// Run: node --test openwrt/luci-proto-mape/test/
// With MAPEHELPER=path/to/mapehelper the preview is also computed by the
// real binary's rpcd plugin (required when CI=true).
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const H = require('./harness.js');

const source = fs.readFileSync(path.join(__dirname, '../htdocs/luci-static/resources/protocol/mape.js'), 'utf8');

// The module listens for widget-change on document and debounces with
// window timers, as in a browser.
globalThis.window = globalThis;
globalThis.document = new EventTarget();
require('node:events').setMaxListeners(200, globalThis.document);

const seedCalc = {
	isp: 'v6plus', br: '2404:9200:225:100::64', ce: '240b:12:3456:7800:e:834:5600:7800', ipv4: '14.8.52.86',
	ip4prefix: '14.8.0.0/16', ip6prefix: '240b:12::/32', ealen: 24, psidlen: 8, psid: 120, offset: 4, legacy: true,
	port_sets: Array.from({ length: 15 }, (_, i) => [ ((i + 1) << 12) | (120 << 4), (((i + 1) << 12) | (120 << 4)) + 15 ]),
	ports: 240
};

function setup(opts) {
	opts = opts || {};
	const luci = H.createLuCI({
		uci: opts.uci || { wan_mape: { proto: 'mape', tunlink: 'wan6' } },
		networks: opts.networks || { wan6: { prefix: '240b:12:3456:7800::/56', addrs: [ '240b:12:3456:7800::1/64' ] } },
		calc: opts.calc || (() => seedCalc),
		status: opts.status
	});
	const ret = H.loadProtocol(source, luci);
	return { luci, ret };
}

function text(node) {
	return node.textContent.replace(/\s+/g, ' ');
}

const flush = () => new Promise((r) => setTimeout(r, 0));

test('registers mape only: map stays with the stock page', () => {
	const { luci, ret } = setup();
	assert.strictEqual(ret, luci.rec.protocols.mape);
	assert.deepStrictEqual(Object.keys(luci.rec.protocols).sort(), [ 'mape' ]);
	const mape = luci.rec.protocols.mape;
	assert.strictEqual(mape.getI18n(), 'MAP-E (mapehelper)');
	assert.strictEqual(mape.typeOption, 'type');
	assert.strictEqual(mape.getOpkgPackage(), 'mapehelper');
	assert.strictEqual(mape.isVirtual(), true);
	assert.strictEqual(mape.isFloating(), true);
	assert.strictEqual(mape.getDevices(), null);

	// The binary's naming rule (tunnel.DeviceName), on the vectors its Go
	// test checks too.
	const names = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../tunnel/testdata/names.json'), 'utf8')).names;
	assert.ok(Object.keys(names).length >= 8);
	for (const [ sid, dev ] of Object.entries(names)) {
		const i = Object.assign(Object.create(mape), { sid: sid, _ubus: () => null });
		assert.strictEqual(i.getIfname(), dev, `tunnel of ${sid}`);
	}
	const inst = Object.assign(Object.create(mape), { sid: 'wan_mape_long_name', _ubus: () => null });
	assert.strictEqual(inst.getIfname(), 'map-wan_m-9f114', 'a name that does not fit gets a hash suffix');
	assert.strictEqual(inst.containsDevice('map-wan_m-9f114'), true);
	inst._ubus = (k) => (k == 'l3_device' ? 'map-x' : null);
	assert.strictEqual(inst.getIfname(), 'map-x');

	assert.strictEqual(luci.rec.virtual.length, 1);
	assert.ok(luci.rec.virtual[0].test('map-wan'));
	assert.ok(!luci.rec.virtual[0].test('eth0'));
});

test('every handler error code is registered as a sentence', () => {
	const { luci } = setup();
	const codes = [ 'INVALID_MAP_RULE', 'NO_MATCHING_PD', 'UNSUPPORTED_TYPE', 'NO_TUNLINK', 'NO_PERMISSION',
		'NO_KERNEL_SUPPORT', 'FIREWALL_FAILED', 'TUNNEL_FAILED', 'MISSING_PREFIX', 'BUSY', 'FAILED' ];
	assert.deepStrictEqual(Object.keys(luci.rec.errorCodes).sort(), codes.slice().sort());
	for (const c of codes) {
		const msg = luci.rec.errorCodes[c];
		assert.match(msg, /^[A-Z][^]{30,}\.$/, `${c}: "${msg}" is not a sentence`);
		assert.ok(!codes.some((k) => msg.includes(k)), `${c}: message shows a raw code`);
	}
	assert.match(luci.rec.errorCodes.NO_MATCHING_PD, /enter the rule manually/);
	assert.match(luci.rec.errorCodes.NO_KERNEL_SUPPORT, /kmod-ip6-tunnel/);
});

test('form fields, tabs, datatypes and depends', () => {
	const { luci } = setup();
	const { section } = H.buildForm(luci, 'mape', 'wan_mape');
	const manual = [ { _mode: 'manual' } ];
	const want = [
		// name, class, tab, datatype, depends
		[ 'tunlink', 'NetworkSelect', 'general', undefined, [] ],
		[ '_mode', 'ListValue', 'general', undefined, [] ],
		[ 'type', 'ListValue', 'general', undefined, manual ],
		[ 'peeraddr', 'Value', 'general', 'ip6addr', manual ],
		[ 'ipaddr', 'Value', 'general', 'ip4addr("nomask")', manual ],
		[ 'ip4prefixlen', 'Value', 'general', 'range(0,32)', manual ],
		[ 'ip6prefix', 'Value', 'general', 'ip6addr("nomask")', manual ],
		[ 'ip6prefixlen', 'Value', 'general', 'range(0,64)', manual ],
		[ 'ealen', 'Value', 'general', 'range(0,48)', manual ],
		[ 'psidlen', 'Value', 'general', 'range(0,16)', manual ],
		[ 'psid', 'Value', 'general', 'range(0,65535)', manual ],
		[ 'offset', 'Value', 'general', 'range(0,16)', manual ],
		[ 'rule', 'Value', 'general', undefined, manual ],
		[ '_prefix', 'Value', 'general', 'ip6addr', [] ],
		[ '_preview', 'DummyValue', 'general', undefined, [] ],
		[ '_status', 'DummyValue', 'general', undefined, [] ],
		[ 'legacymap', 'ListValue', 'advanced', undefined, [] ],
		[ 'mtu', 'Value', 'advanced', 'range(1280,9200)', [] ],
		[ 'ttl', 'Value', 'advanced', 'range(1,255)', [] ],
		[ 'encaplimit', 'Value', 'advanced', 'or("ignore", range(0,255))', [] ],
		[ 'vrange', 'Flag', 'advanced', undefined, [] ],
		[ 'zone', 'ZoneSelect', 'advanced', undefined, [] ]
	];
	const got = section.options.map((o) => [ o.option, o.className, o.tab, o.datatype, o.deps ]);
	assert.deepStrictEqual(got, want);

	const o = (n) => section.getOption(n);
	assert.deepStrictEqual(o('_mode').choices.map((c) => c[0]), [ 'auto', 'manual' ]);
	assert.strictEqual(o('_mode').choices[0][1], 'Automatic (by prefix)');
	assert.deepStrictEqual(o('type').choices.map((c) => c[0]), [ 'map-e', 'map-t', 'lw4o6' ]);
	assert.deepStrictEqual(o('legacymap').choices.map((c) => c[0]), [ '', '1', '0' ]);
	assert.strictEqual(o('tunlink').rmempty, false);
	assert.strictEqual(o('tunlink').exclude, 'wan_mape');
	assert.strictEqual(o('mtu').placeholder, '1460');
	assert.strictEqual(o('ttl').placeholder, '64');
	for (const n of [ '_prefix', '_preview', '_status' ])
		assert.strictEqual(o(n).modalonly, true, n + ' only in the edit dialog');

});

test('rule mode is derived from the saved options and never saved itself', () => {
	const { luci } = setup({ uci: { a: { proto: 'mape' }, b: { proto: 'mape', ip6prefix: '240b:12::' }, c: { rule: 'x' } } });
	for (const [ sid, mode ] of [ [ 'a', 'auto' ], [ 'b', 'manual' ], [ 'c', 'manual' ] ]) {
		const { section } = H.buildForm(luci, 'mape', sid);
		assert.strictEqual(section.formvalue(sid, '_mode'), mode, sid);
		assert.strictEqual(section.isActive(section.getOption('ealen')), mode == 'manual');
	}
	const { section } = H.buildForm(luci, 'mape', 'a');
	for (const n of [ '_mode', '_prefix' ]) {
		assert.strictEqual(section.getOption(n).write('a', 'x'), undefined);
		assert.strictEqual(section.getOption(n).remove('a'), undefined);
	}
});

async function renderPreview(luci, proto, sid, values) {
	const { section } = H.buildForm(luci, proto, sid);
	Object.assign(section.values, values || {});
	const node = section.getOption('_preview').renderWidget(sid);
	await node.mapeUpdate();
	return { section, node };
}

test('preview: calc gets the tunnel link prefix in automatic mode', async () => {
	const { luci } = setup();
	const { node } = await renderPreview(luci, 'mape', 'wan_mape');
	const calls = luci.rec.rpc.filter((c) => c.method == 'mape.calc');
	assert.deepStrictEqual(calls[calls.length - 1].params, { prefix: '240b:12:3456:7800::/56' });
	const t = text(node);
	for (const s of [ '14.8.52.86', '120', '240 in 15 port sets', '6016-6031 10112-10127', '63360-63375', 'v6plus', '2404:9200:225:100::64' ])
		assert.ok(t.includes(s), `preview lacks ${s}: ${t}`);
});

// The real dialog renders the preview before the tunnel link's widget
// exists (formvalue null): the first preview still uses the saved tunlink
// (found by the real-LuCI tier, make luci-real).
test('preview: the first computation, while widgets render, uses the saved tunlink', async () => {
	const { luci } = setup();
	const { section } = H.buildForm(luci, 'mape', 'wan_mape');
	section.rendering = true;
	const node = section.getOption('_preview').renderWidget('wan_mape');
	for (let i = 0; i < 5; i++)
		await flush();
	section.rendering = false;
	const calls = luci.rec.rpc.filter((c) => c.method == 'mape.calc');
	assert.deepStrictEqual(calls.map((c) => c.params), [ { prefix: '240b:12:3456:7800::/56' } ]);
	assert.ok(text(node).includes('14.8.52.86'), text(node));
});

test('preview: typed prefix, address-only link, manual options', async () => {
	let { luci } = setup();
	await renderPreview(luci, 'mape', 'wan_mape', { _prefix: '240b:12:3456:7800::1' });
	assert.deepStrictEqual(luci.rec.rpc.at(-1).params, { prefix: '240b:12:3456:7800::1' });

	({ luci } = setup({ networks: { wan6: { addrs: [ 'fe80::1/64', '240b:12:3456:7800::2/64' ] } } }));
	await renderPreview(luci, 'mape', 'wan_mape');
	assert.deepStrictEqual(luci.rec.rpc.at(-1).params, { prefix: '240b:12:3456:7800::2' }, 'global address, without /64, link-local skipped');

	({ luci } = setup());
	await renderPreview(luci, 'mape', 'wan_mape', {
		_mode: 'manual', type: 'map-e', peeraddr: '2001:db8::1', ipaddr: '14.8.0.0', ip4prefixlen: '16',
		ip6prefix: '240b:12::', ip6prefixlen: '32', ealen: '24', psidlen: '8', offset: '4', psid: '', legacymap: '1'
	});
	assert.deepStrictEqual(luci.rec.rpc.at(-1).params, {
		prefix: '240b:12:3456:7800::/56', type: 'map-e', peeraddr: '2001:db8::1', ipaddr: '14.8.0.0', ip4prefixlen: 16,
		ip6prefix: '240b:12::', ip6prefixlen: 32, ealen: 24, psidlen: 8, offset: 4, legacymap: true
	}, 'integers as numbers, legacymap as boolean, empty options not sent');

	// Back to automatic: rule options are not sent even if still typed.
	({ luci } = setup());
	await renderPreview(luci, 'mape', 'wan_mape', { _mode: 'auto', ealen: '24', legacymap: '0' });
	assert.deepStrictEqual(luci.rec.rpc.at(-1).params, { prefix: '240b:12:3456:7800::/56', legacymap: false });
});

test('preview: errors become sentences', async () => {
	let { luci } = setup({ calc: () => ({ code: 'NO_MATCHING_PD', error: 'no rule matches 2001:db8::/56' }) });
	let { node } = await renderPreview(luci, 'mape', 'wan_mape');
	assert.match(text(node), /No MAP rule matches the IPv6 prefix .* \(no rule matches 2001:db8::\/56\)/);

	({ luci } = setup({ networks: {} }));
	({ node } = await renderPreview(luci, 'mape', 'wan_mape'));
	assert.match(text(node), /No delegated IPv6 prefix/);
	assert.strictEqual(luci.rec.rpc.filter((c) => c.method == 'mape.calc').length, 0, 'no calc without a prefix');

	({ luci } = setup({ calc: () => 6 }));
	({ node } = await renderPreview(luci, 'mape', 'wan_mape'));
	assert.match(text(node), /ubus status 6/);

	({ luci } = setup({ calc: () => { throw new Error('RPCError: timeout'); } }));
	({ node } = await renderPreview(luci, 'mape', 'wan_mape'));
	assert.match(text(node), /timeout/);
});

test('preview follows form changes (widget-change, debounced)', async () => {
	const { luci } = setup();
	const { section } = await renderPreview(luci, 'mape', 'wan_mape');
	const before = luci.rec.rpc.length;
	section.values._prefix = '240b:12:3456:7900::/56';
	document.dispatchEvent(new Event('widget-change'));
	document.dispatchEvent(new Event('widget-change'));
	await new Promise((r) => setTimeout(r, 400));
	const calls = luci.rec.rpc.slice(before);
	assert.strictEqual(calls.length, 1, 'two quick changes, one calc');
	assert.strictEqual(calls[0].params.prefix, '240b:12:3456:7900::/56');
});

// Seen on the real LuCI: a change timer firing after Save closed the
// dialog read widgets that no longer exist (an uncaught TypeError).
test('a change pending when the dialog closes computes nothing and throws nothing', async () => {
	const { luci } = setup();
	const { section, node } = await renderPreview(luci, 'mape', 'wan_mape');
	const before = luci.rec.rpc.length;
	document.dispatchEvent(new Event('widget-change'));
	node.isConnected = false;
	section.closed = true;
	await new Promise((r) => setTimeout(r, 400));
	assert.strictEqual(luci.rec.rpc.length, before, 'no calc after the dialog closed');
	assert.ok(text(node).includes('14.8.52.86'), text(node));
});

// The status document the page renders; status/report_test.go checks that it
// uses only keys the backend emits (TestLuCIFixtureKeys).
const statusFixture = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'status', 'testdata', 'luci-status.json'), 'utf8'));

test('status: ports in use per set, tunnel, rules and bad port forwards', async () => {
	const { luci } = setup({ status: () => statusFixture });
	const { section } = H.buildForm(luci, 'mape', 'wan_mape');
	const node = section.getOption('_status').renderWidget('wan_mape');
	await node.mapeUpdate();
	assert.deepStrictEqual(luci.rec.rpc.at(-1), { method: 'mape.status', params: { interface: 'wan_mape' } });
	const t = text(node);
	for (const s of [ 'up', '14.8.52.86', 'map-wan_mape up', 'present', 'Port set', '6016-6031 12 3', '10112-10127 16 0',
		'Port forward web: external port 80 is outside our port sets' ])
		assert.ok(t.includes(s), `status lacks "${s}": ${t}`);
	assert.ok(!t.includes('Port forward ssh'), 'usable forwards are not warned about');
});

test('status: free ports for a port forward, ports per host, NAT pressure', async () => {
	const { luci } = setup({ status: () => statusFixture });
	const node = H.buildForm(luci, 'mape', 'wan_mape').section.getOption('_status').renderWidget('wan_mape');
	await node.mapeUpdate();
	const t = text(node);
	for (const s of [
		'Free external ports 186 of 240; for a new port forward, e.g. 6028, 14210, 18306, 22402, 26498, 30594, 34690, 38786',
		'Connection tracking 72 of 15360 entries; insert failed 3, dropped 1, early drops 0',
		'Free ports', '6016-6031 12 3 4', '10112-10127 16 0 0',
		'Host TCP ports held UDP ports held Connections', '192.168.1.10 30 4 51', '14.8.52.86 (this router) 1 2 3',
		'and 9 more hosts',
		'external port 80 is outside our port sets: the ISP never delivers it to this router; pick an external port from the usable ports. Free external ports to use instead: 6028, 14210'
	])
		assert.ok(t.includes(s), `status lacks "${s}": ${t}`);
	assert.ok(!t.includes('192.168.1.23 (this router)'), t);
});

test('status: not set up, and the last error translated', async () => {
	let { luci } = setup({ status: () => ({ interfaces: [] }) });
	let node = H.buildForm(luci, 'mape', 'wan_mape').section.getOption('_status').renderWidget('wan_mape');
	await node.mapeUpdate();
	assert.match(text(node), /Not set up/);

	({ luci } = setup({ status: () => ({ interfaces: [ { state: 'error', last_error: 'nft: syntax error', error_code: 'FIREWALL_FAILED', ports_in_use: { sets: [] } } ] }) }));
	node = H.buildForm(luci, 'mape', 'wan_mape').section.getOption('_status').renderWidget('wan_mape');
	await node.mapeUpdate();
	assert.match(text(node), /firewall rules for the port sets could not be installed.* nft: syntax error/);
});

test('status: what the backend could not check shows as unknown; no ports while not up', async () => {
	const unchecked = Object.assign({}, statusFixture.interfaces[0], { tunnel_up: null, nft_rules: null, ports_in_use: null,
		free_ports: null, lan_hosts: null, nat_pressure: null });
	let { luci } = setup({ status: () => ({ interfaces: [ unchecked ] }) });
	let node = H.buildForm(luci, 'mape', 'wan_mape').section.getOption('_status').renderWidget('wan_mape');
	await node.mapeUpdate();
	let t = text(node);
	for (const s of [ 'map-wan_mape unknown', 'Firewall rules unknown', 'Ports in use unknown', '6016-6031',
		'Free external ports unknown', 'Connection tracking unknown' ])
		assert.ok(t.includes(s), `status lacks "${s}": ${t}`);
	for (const s of [ 'down', 'missing', 'Port set', 'Host', 'to use instead', 'entries' ])
		assert.ok(!t.includes(s), `status claims "${s}": ${t}`);

	const failed = Object.assign({}, statusFixture.interfaces[0], { state: 'error', tunnel_up: false, nft_rules: false,
		ports_in_use: null, usable_external_ports: [], last_error: 'injected', error_code: 'TUNNEL_FAILED' });
	({ luci } = setup({ status: () => ({ interfaces: [ failed ] }) }));
	node = H.buildForm(luci, 'mape', 'wan_mape').section.getOption('_status').renderWidget('wan_mape');
	await node.mapeUpdate();
	t = text(node);
	assert.ok(t.includes('Usable external ports none: the interface is not up'), t);
	assert.ok(t.includes('Free external ports none: the interface is not up'), t);
	assert.ok(t.includes('Connection tracking 72 of 15360 entries'), t);
	assert.ok(!t.includes('Port set') && !t.includes('6016-6031') && !t.includes('Host') && !t.includes('to use instead'),
		`a failed up lists ports: ${t}`);
});

test('preview computed by the real rpcd plugin', { skip: !process.env.MAPEHELPER && process.env.CI != 'true' }, async () => {
	assert.ok(process.env.MAPEHELPER, 'set MAPEHELPER to the built binary (make luci-test does)');
	const realCalc = (params) => JSON.parse(execFileSync(process.env.MAPEHELPER, [ 'rpcd', 'call', 'calc' ], {
		input: JSON.stringify(Object.assign({ ubus_rpc_session: '0'.repeat(32) }, params))
	}));
	let { luci } = setup({ calc: realCalc });
	let { node } = await renderPreview(luci, 'mape', 'wan_mape');
	assert.match(text(node), /14\.8\.52\.86/);
	assert.match(text(node), /240 in 15 port sets/);

	// Manual options exactly as the form sends them are accepted.
	({ luci } = setup({ calc: realCalc }));
	({ node } = await renderPreview(luci, 'mape', 'wan_mape', {
		_mode: 'manual', peeraddr: '2001:db8::1', ipaddr: '14.8.0.0', ip4prefixlen: '16', ip6prefix: '240b:12::',
		ip6prefixlen: '32', ealen: '24', psidlen: '8', offset: '4', legacymap: '1'
	}));
	assert.match(text(node), /14\.8\.52\.86/);
	assert.match(text(node), /2001:db8::1/);

	({ luci } = setup({ calc: realCalc, networks: { wan6: { prefix: '2001:db8::/56' } } }));
	({ node } = await renderPreview(luci, 'mape', 'wan_mape'));
	assert.match(text(node), /No MAP rule matches the IPv6 prefix/);
});

test('preview reads the dialog copy of the options, as LuCI renders them', async () => {
	// LuCI's edit dialog copies every option (own properties included) into
	// a new section of a new map; the preview must read that copy's widgets.
	const { luci } = setup();
	const { section } = H.buildForm(luci, 'mape', 'wan_mape');
	const modal = new section.constructor(luci, 'wan_mape');
	modal.tab('general', 'General Settings');
	modal.tab('advanced', 'Advanced Settings');
	for (const o1 of section.options) {
		const o2 = modal.taboption(o1.tab, o1.klass, o1.option, o1.title, o1.description);
		for (const k of Object.keys(o1))
			if (![ 'map', 'section', 'option', 'title', 'description' ].includes(k))
				o2[k] = o1[k];
	}
	section.values._prefix = '2001:db8:dead::/56'; // the page's stale copy
	modal.values._prefix = '240b:12:3456:7800::/56';
	modal.values._mode = 'manual';
	modal.values.ealen = '24';
	const node = modal.getOption('_preview').renderWidget('wan_mape');
	await node.mapeUpdate();
	assert.deepStrictEqual(luci.rec.rpc.at(-1).params, { prefix: '240b:12:3456:7800::/56', ealen: 24 });
});
