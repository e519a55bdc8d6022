'use strict';
// Drives the real LuCI (uhttpd + LuCI's ucode runtime + rpcd + ubusd +
// netifd, started by run.sh in the namespace this runs in) with headless
// Chromium: log in, Network -> Interfaces, edit wanmap. Every check prints
// "ok" or "FAIL"; the exit status is 1 when one failed. Shell commands run
// in the same namespace (ubus, uci, ip, nft: the router under test).
//
// Environment: OUT (screenshots), CHROMIUM, SCREENSHOT (copy of the edit
// dialog for the README), NEGATIVE=noacl (run.sh left our ACL out: the
// preview and status must fail, and this run says which checks did).

const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const puppeteer = require('puppeteer-core');

const BASE = 'http://127.0.0.1';
const OUT = process.env.OUT || '.';
const STATE = '/var/run/mapehelper/wanmap.json';
const UP = 'mapehelper up --interface wanmap --link eth1 --prefix 240b:12:3456:7800::/56';
const results = [];
let phase = 'start';

function check(name, ok, detail) {
	phase = name;
	results.push({ name, ok });
	console.log((ok ? 'ok   ' : 'FAIL ') + name + (ok || detail == null ? '' : ': ' + detail));
	return ok;
}

function sh(cmd) {
	return execFileSync('/bin/sh', [ '-c', cmd ], { encoding: 'utf8', stdio: [ 'ignore', 'pipe', 'pipe' ] });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The sentences of mape.js's error table, read from the file under test
// (the page must show exactly these).
function ourSentences() {
	const js = fs.readFileSync('/var/www/luci-static/resources/protocol/mape.js', 'utf8');
	const table = js.slice(js.indexOf('var errorCodes = {'), js.indexOf('};', js.indexOf('var errorCodes = {')));
	const out = {};
	for (const m of table.matchAll(/^\s*([A-Z_]+):\s*_\('((?:[^'\\]|\\.)*)'\)/gm))
		out[m[1]] = m[2].replace(/\\'/g, '\'');
	return out;
}

async function text(page, sel) {
	return page.$eval(sel, (n) => n.textContent.replace(/\s+/g, ' ').trim()).catch(() => null);
}

// waitText waits until the node matching sel has text matching re.
async function waitText(page, sel, re, ms) {
	const until = Date.now() + (ms || 10000);
	let last = null;
	while (Date.now() < until) {
		last = await text(page, sel);
		if (last != null && re.test(last))
			return last;
		await sleep(100);
	}
	return last;
}

// openList loads Network -> Interfaces. order is 'map-first', 'mape-first'
// or null: the named protocol file is answered 600 ms after the other, so
// each registration order is forced rather than left to timing.
let late = null;
const pending = new Set();
async function openList(page, order) {
	late = order ? ((order == 'map-first') ? '/protocol/mape.js' : '/protocol/map.js') : null;
	await settle();
	await page.goto(BASE + '/cgi-bin/luci/admin/network/network', { waitUntil: 'domcontentloaded' });
	await page.waitForSelector('.cbi-section-table-row[data-sid="wanmap"] .ifacebox', { timeout: 20000 });
	await waitText(page, '.cbi-section-table-row[data-sid="wanmap"]', /Protocol/);
}

// settle waits until the page has no request in flight: uhttpd serves
// LuCI's dispatcher in its own process, and a request that a navigation
// aborts half-way (seen: admin/menu) stalled it for the next page.
async function settle() {
	for (let i = 0; i < 100 && pending.size; i++)
		await sleep(100);
}

async function openEdit(page, sid) {
	await page.click('.cbi-section-table-row[data-sid="' + sid + '"] .cbi-button-edit');
	await page.waitForSelector('.modal .cbi-section', { timeout: 10000 });
}

async function closeModal(page) {
	await page.evaluate(() => {
		const b = Array.from(document.querySelectorAll('.modal .button-row button, .modal .right button'))
			.find((x) => /Dismiss|Cancel/.test(x.textContent));
		if (b) b.click();
	});
	await page.waitForFunction(() => !document.querySelector('body.modal-overlay-active'), { timeout: 5000 }).catch(() => {});
}

// statusNow re-reads ubus call mape status in the open dialog (what the
// page does on opening) and returns the block's text.
async function statusNow(page) {
	return page.evaluate(() => {
		const n = document.querySelector('.modal .mape-status-box');
		return n.mapeUpdate().then(() => n.textContent.replace(/\s+/g, ' ').trim());
	});
}

// flows opens 20 UDP and 10 TCP flows from the router out of map-wanmap
// (a veth here, the tunnel on a router): our srcnat rules map each into a
// port set, and conntrack keeps them (unanswered) for status to count.
// One destination per protocol: status counts NAT ports, and flows to
// different destinations may share one.
async function flows() {
	const dgram = require('dgram'), net = require('net');
	for (let i = 0; i < 20; i++) {
		const u = dgram.createSocket('udp4');
		u.send('x', 9000, '198.51.100.1', () => u.close());
	}
	for (let i = 0; i < 10; i++) {
		const c = net.connect({ host: '198.51.100.2', port: 443 });
		c.on('error', () => {});
		setTimeout(() => c.destroy(), 2000);
	}
	await sleep(300);
}

function writeState(mut) {
	const st = JSON.parse(fs.readFileSync(STATE, 'utf8'));
	mut(st);
	fs.writeFileSync(STATE, JSON.stringify(st, null, 2));
}

async function main() {
	const negative = process.env.NEGATIVE || '';
	const sentences = ourSentences();
	check('mape.js has the 11 error sentences', Object.keys(sentences).length == 11, Object.keys(sentences).join(' '));

	const browser = await puppeteer.launch({
		executablePath: process.env.CHROMIUM || 'chromium',
		headless: true,
		args: [ '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage' ],
		defaultViewport: { width: 1000, height: 2600 }
	});
	try {
		const page = await browser.newPage();
		const pageErrors = [];
		// Interception from the start (turning it on while a page loads
		// can stall that page's requests); openList sets late.
		await page.setRequestInterception(true);
		page.on('requestfinished', (req) => pending.delete(req));
		page.on('requestfailed', (req) => pending.delete(req));
		page.on('request', (req) => {
			pending.add(req);
			if (late && req.url().split('?')[0].endsWith(late))
				setTimeout(() => req.continue(), 600);
			else
				req.continue();
		});
		page.on('pageerror', (e) => pageErrors.push(phase + ': ' + (process.env.DEBUG ? e.stack : String(e))));

		// -- log in through LuCI's own login form --------------------------
		// The login form posts to the page asked for: the interface list.
		await page.goto(BASE + '/cgi-bin/luci/admin/network/network', { waitUntil: 'domcontentloaded' });
		await page.$eval('input[name=luci_username]', (n) => { n.value = 'admin'; });
		await page.$eval('input[name=luci_password]', (n) => { n.value = 'mapehelper'; });
		await Promise.all([ page.waitForNavigation({ waitUntil: 'domcontentloaded' }),
			page.$eval('input[name=luci_password]', (n) => n.form.submit()) ]);
		const cookies = await page.cookies();
		check('login through the sysauth form gives a session cookie', cookies.some((c) => /^sysauth/.test(c.name)),
			JSON.stringify(cookies.map((c) => c.name)));

		// -- the interface list, both registration orders ------------------
		for (const order of [ 'map-first', 'mape-first' ]) {
			await openList(page, order);
			const row = await waitText(page, '.cbi-section-table-row[data-sid="wanmap"]', /Error/);
			const stock = await text(page, '.cbi-section-table-row[data-sid="stockmap"]');
			check(order + ': wanmap is protocol "MAP-E (mapehelper)"', /Protocol: MAP-E \(mapehelper\)/.test(row), row);
			check(order + ': stockmap keeps the stock page "MAP / LW4over6"', /Protocol: MAP \/ LW4over6(?! \(mapehelper)/.test(stock), stock);
			check(order + ': wanmap\'s device is map-wanmap, not mape-wanmap', /map-wanmap/.test(row) && !/mape-wanmap/.test(row), row);
			check(order + ': netifd\'s live error NO_KERNEL_SUPPORT shows its sentence', row.includes(sentences.NO_KERNEL_SUPPORT), row);
		}

		// -- edit wanmap: protocol, preview, status -----------------------
		await openEdit(page, 'wanmap');
		const protos = await page.$$eval('.modal select[id$=".proto"] option, .modal [id$=".proto"] li[data-value]',
			(ns) => ns.map((n) => (n.value || n.getAttribute('data-value')) + '=' + n.textContent.trim()));
		check('the protocol choice offers MAP-E (mapehelper) and the stock MAP', protos.includes('mape=MAP-E (mapehelper)') &&
			protos.some((p) => /^map=MAP \/ LW4over6$/.test(p)), protos.join(', '));

		const calc = JSON.parse(sh('ubus call mape calc \'{"prefix":"240b:12:3456:7800::/56"}\''));
		const prev = await waitText(page, '.modal .mape-preview-box', /IPv4 address|error|fail|denied/i);
		check('preview computed by mape calc through rpcd: IPv4 ' + calc.ipv4 + ', PSID ' + calc.psid,
			prev != null && prev.includes(calc.ipv4) && prev.includes('PSID' + calc.psid) && prev.includes(calc.ce) &&
			prev.includes(calc.ports + ' in ' + calc.port_sets.length + ' port sets'), prev);

		// After the failed setup the handler ran down: no state file.
		let st = await waitText(page, '.modal .mape-status-box', /State|Not set up/);
		check('status block after netifd\'s failed setup: not set up', /^Not set up/.test(st), st);
		// mapehelper up by hand on this router keeps its error record.
		try { sh(UP); } catch (e) { /* fails: no ip6_tunnel */ }
		st = await statusNow(page);
		check('status block: the error state of a real up on this kernel (no ip6_tunnel), with its sentence',
			/State\s*error/.test(st) && st.includes(sentences.NO_KERNEL_SUPPORT) && /ip6_tunnel missing/.test(st), st);

		if (!negative) {
			// The router's up state, prepared: the kernel here cannot create
			// ip6tnl, so a veth stands in for the tunnel, the ruleset is the
			// one `up` would load (its --dry-run), the state file is the
			// handler's own with the error cleared. What status reports about
			// the kernel (tunnel up, rules present, ports) stays live.
			sh('ip link add map-wanmap type veth peer name map-wanmap-p && ip link set map-wanmap up && ip link set map-wanmap-p up');
			sh(UP + ' --dry-run | sed -n "/^# nftables/,\\$p" | nft -f -');
			sh('ip addr add ' + calc.ipv4 + '/32 dev map-wanmap && ip route add 198.51.100.0/24 dev map-wanmap');
			sh('uci add firewall redirect >/dev/null && uci set firewall.@redirect[-1].name=web && ' +
				'uci set firewall.@redirect[-1].src=wan && uci set firewall.@redirect[-1].src_dport=80 && ' +
				'uci set firewall.@redirect[-1].dest=lan && uci set firewall.@redirect[-1].dest_ip=192.168.1.20 && ' +
				'uci set firewall.@redirect[-1].proto=tcp && uci commit firewall');
			writeState((s) => { s.state = 'up'; s.error = ''; s.error_code = ''; });
			await flows();
			// The sockets open asynchronously: read until all 30 are there.
			let usage = [];
			const sum = (k) => usage.reduce((a, r) => a + parseInt(r[k], 10), 0);
			for (let i = 0; i < 50 && !(sum(1) == 10 && sum(2) == 20); i++) {
				await sleep(i ? 100 : 0);
				st = await statusNow(page);
				usage = await page.$$eval('.modal .mape-usage tr.tr:not(.table-titles)', (rs) => rs.map((r) =>
					Array.from(r.querySelectorAll('td')).map((td) => td.textContent.trim())));
			}
			check('status block, up: state, IPv4, tunnel up, rules present, usable ports from the live kernel',
				/State\s*up/.test(st) && st.includes(calc.ipv4) && /Tunnel\s*map-wanmap up/.test(st) &&
				/Firewall rules\s*present/.test(st) && st.includes('6016-6031') && st.includes('63360-63375'), st);
			check('status block: ports in use counted from live conntrack: 15 sets, tcp 10, udp 20 through our SNAT rules',
				usage.length == 15 && sum(1) == 10 && sum(2) == 20, JSON.stringify(usage));
			check('status block: the port forward outside the sets is flagged',
				/Port forward web: external port 80 is outside our port sets/.test(st), st);
			// The 30 flows hold 30 (protocol, port) pairs; a TCP and a UDP
			// flow may share a number, so 210-220 ports stay free.
			const free = /Free external ports\s*(\d+) of 240; for a new port forward, e\.g\. (\d+(, \d+){7})/.exec(st);
			const hosts = await page.$$eval('.modal .mape-hosts tr.tr:not(.table-titles)', (rs) => rs.map((r) =>
				Array.from(r.querySelectorAll('td')).map((td) => td.textContent.trim())));
			check('status block: free ports and ports per host from live conntrack: 210-220 of 240 free, 8 suggestions; this router holds tcp 10, udp 20',
				free && +free[1] >= 210 && +free[1] <= 220 && /Free external ports to use instead: \d+/.test(st) &&
				JSON.stringify(hosts) == JSON.stringify([ [ calc.ipv4 + ' (this router)', '10', '20', '30' ] ]), st + ' ' + JSON.stringify(hosts));
			const ct = /Connection tracking\s*(\d+) of (\d+) entries; insert failed \d+, dropped \d+, early drops \d+/.exec(st);
			check('status block: NAT pressure counters read from the kernel (ctnetlink)', ct && +ct[1] >= 30 && +ct[2] > 0, st);

			// The README's screenshot: this dialog, up, with live usage.
			const shot = process.env.SCREENSHOT || path.join(OUT, 'luci-mape.png');
			await (await page.$('.modal')).screenshot({ path: shot });
			check('screenshot of the edit dialog: ' + shot, fs.statSync(shot).size > 10000);

			sh('nft delete table ip mapehelper_wanmap && ip link set map-wanmap down');
			st = await statusNow(page);
			check('status block follows the kernel: table deleted -> rules missing, link down -> tunnel down',
				/Firewall rules\s*missing/.test(st) && /Tunnel\s*map-wanmap down/.test(st), st);
			sh(UP + ' --dry-run | sed -n "/^# nftables/,\\$p" | nft -f - && ip link set map-wanmap up');
			st = await statusNow(page);

			// Every code's sentence in the status block (the state file is
			// what it reads).
			const bad = [];
			for (const code of Object.keys(sentences)) {
				writeState((s) => { s.state = 'error'; s.error = 'detail of ' + code; s.error_code = code; });
				const t = await statusNow(page);
				if (!t.includes(sentences[code] + ' detail of ' + code))
					bad.push(code + ': ' + t);
			}
			check('status block: each of the 11 error codes shows its sentence', bad.length == 0, bad.join(' | '));
			writeState((s) => { s.state = 'up'; s.error = ''; s.error_code = ''; });
		}
		await closeModal(page);

		if (!negative) {
			// Every code as netifd's interface error (what the list reads):
			// the handler's proto_notify_error, sent the same way.
			for (const code of Object.keys(sentences))
				sh('ubus call network.interface.wanmap notify_proto \'{"action":3,"error":["' + code + '"]}\'');
			const errs = JSON.parse(sh('ubus call network.interface.wanmap status')).errors || [];
			check('netifd holds the 11 notified errors', errs.length >= 11, JSON.stringify(errs));
			for (const order of [ 'map-first', 'mape-first' ]) {
				await openList(page, order);
				const row = await waitText(page, '.cbi-section-table-row[data-sid="wanmap"]', /Error/);
				const missing = Object.keys(sentences).filter((c) => !row.includes(sentences[c]));
				check(order + ': the list shows each netifd error code with our sentence', missing.length == 0,
					'missing ' + missing.join(' ') + ' in: ' + row);
			}
		}

		// -- save through rpcd --------------------------------------------
		if (!negative) {
			await openEdit(page, 'wanmap');
			await page.evaluate(() => {
				const t = Array.from(document.querySelectorAll('.modal .cbi-tabmenu li')).find((li) => /Advanced/.test(li.textContent));
				t.querySelector('a').click();
			});
			await page.waitForSelector('.modal input[id$=".wanmap.mtu"]', { visible: true, timeout: 5000 });
			await page.type('.modal input[id$=".wanmap.mtu"]', '1454');
			// A mouse click, as a user's (the field loses focus first).
			const save = await page.evaluateHandle(() =>
				Array.from(document.querySelectorAll('.modal button')).find((x) => x.textContent.trim() == 'Save'));
			await save.click();
			await page.waitForFunction(() => !document.querySelector('body.modal-overlay-active'), { timeout: 10000 });
			// Save & Apply: LuCI's dispatcher asks rpcd to apply (with
			// rollback) and then confirms.
			await page.click('.cbi-page-actions .cbi-dropdown');
			let mtu = '';
			for (let i = 0; i < 150 && mtu != '1454'; i++) {
				await sleep(100);
				mtu = sh('uci -q get network.wanmap.mtu || true').trim();
			}
			check('Save & Apply wrote network.wanmap.mtu=1454 through rpcd (uci get)', mtu == '1454', 'uci get: "' + mtu + '"');
			const confirmed = await waitText(page, 'body', /Configuration changes applied\./, 20000);
			check('LuCI confirmed the apply ("Configuration changes applied.")', /Configuration changes applied\./.test(confirmed || ''),
				(confirmed || '').slice(0, 300));
		}

		check('no uncaught error in the page', pageErrors.length == 0, pageErrors.join(' | '));
	} finally {
		await browser.close();
	}

	const failed = results.filter((r) => !r.ok);
	console.log(results.length - failed.length + ' passed, ' + failed.length + ' failed');
	process.exit(failed.length ? 1 : 0);
}

main().catch((e) => {
	console.log('FAIL driver: ' + (e && e.stack || e));
	for (const r of pending)
		console.log('  unfinished request: ' + r.method() + ' ' + r.url());
	try { console.log(sh('ps -eo pid,ppid,stat,etime,args | grep -E "uhttpd|rpcd|ubus|mapehelper|ucode" | grep -v grep; ss -tnpi | head -30')); } catch (x) { /* diagnostics only */ } process.exit(1); });
