// Serves page.html on 127.0.0.1 (calc answered by the real binary's rpcd
// plugin, status from status.json) and takes a screenshot of it with
// headless Chromium into $OUT. Run by `make luci-screenshot`.
'use strict';

const http = require('node:http');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawn } = require('node:child_process');

const dir = __dirname;
const binary = process.env.MAPEHELPER;
const out = process.env.OUT || path.join(dir, 'luci-mape.png');
const chromium = process.env.CHROMIUM || 'chromium';
if (!binary)
	throw new Error('set MAPEHELPER to the built binary');

const files = {
	'/page.html': [ path.join(dir, 'page.html'), 'text/html' ],
	'/harness.js': [ path.join(dir, 'harness.js'), 'text/javascript' ],
	'/protocol/mape.js': [ path.join(dir, '../htdocs/luci-static/resources/protocol/mape.js'), 'text/javascript' ]
};

const server = http.createServer((req, res) => {
	let body = '';
	req.on('data', (c) => { body += c; if (body.length > 65536) req.destroy(); });
	req.on('end', () => {
		try {
			if (req.method == 'POST' && req.url == '/ubus/calc') {
				const answer = execFileSync(binary, [ 'rpcd', 'call', 'calc' ], { input: body });
				res.writeHead(200, { 'Content-Type': 'application/json' });
				return res.end(answer);
			}
			if (req.method == 'POST' && req.url == '/ubus/status') {
				res.writeHead(200, { 'Content-Type': 'application/json' });
				return res.end(fs.readFileSync(path.join(dir, 'status.json')));
			}
			const f = files[req.url];
			if (!f) {
				res.writeHead(404);
				return res.end();
			}
			res.writeHead(200, { 'Content-Type': f[1] });
			res.end(fs.readFileSync(f[0]));
		} catch (e) {
			res.writeHead(500);
			res.end(String(e));
		}
	});
});

server.listen(0, '127.0.0.1', () => {
	const url = `http://127.0.0.1:${server.address().port}/page.html`;
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mape-chromium-'));
	const args = [ '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
		'--disable-background-networking', '--disable-component-update', '--disable-sync',
		`--user-data-dir=${profile}`, '--hide-scrollbars', '--window-size=1000,1340',
		'--virtual-time-budget=10000', `--screenshot=${out}`, url ];
	const child = spawn(chromium, args, { stdio: [ 'ignore', 'inherit', 'inherit' ] });
	const timer = setTimeout(() => { console.error('chromium timed out'); child.kill('SIGKILL'); }, 90000);
	child.on('exit', (code) => {
		clearTimeout(timer);
		server.close();
		fs.rmSync(profile, { recursive: true, force: true });
		const size = fs.existsSync(out) ? fs.statSync(out).size : 0;
		if (code !== 0 || size < 10000) {
			console.error(`screenshot failed: chromium exit ${code}, ${out} has ${size} bytes`);
			process.exit(1);
		}
		console.log(`screenshot: ${out} (${size} bytes)`);
	});
});
