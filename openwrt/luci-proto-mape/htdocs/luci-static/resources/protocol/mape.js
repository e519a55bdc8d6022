'use strict';
'require form';
'require network';
'require rpc';
'require uci';
'require tools.widgets as widgets';

// LuCI page for the 'mape' protocol of mapehelper. The backend is the rpcd
// plugin 'mape' (methods 'calc' and 'status', read-only ACL).
//
// Protocol 'map' is left to luci-proto-ipv6's stock map.js: both files are
// loaded in parallel and the last registerProtocol() of a name wins, so
// registering 'map' here too would make the page depend on response order.
// The stock form writes the options our 'map' handler reads (maptype,
// peeraddr, ...), so those configurations keep a working page.

// The calc arguments, in the order of the generated function's positional
// parameters; undefined ones are not sent.
var calcArgNames = [ 'prefix', 'type', 'peeraddr', 'ipaddr', 'ip4prefixlen', 'ip6prefix',
                     'ip6prefixlen', 'ealen', 'psidlen', 'psid', 'offset', 'legacymap', 'rule' ];

var callCalc = rpc.declare({
	object: 'mape',
	method: 'calc',
	params: calcArgNames
});

function calc(params) {
	return callCalc.apply(null, calcArgNames.map(function(n) { return params[n]; }));
}

var callStatus = rpc.declare({
	object: 'mape',
	method: 'status',
	params: [ 'interface' ],
	expect: { interfaces: [] }
});

// Every error code the netifd handler reports (proto_notify_error) and the
// calculator answers with, translated once. Keep in step with the handler.
var errorCodes = {
	INVALID_MAP_RULE:  _('The MAP rule is invalid: check the rule options (IPv6 prefix, IPv4 prefix, EA-bits and PSID lengths).'),
	NO_MATCHING_PD:    _('No MAP rule matches the IPv6 prefix of the tunnel link: the provider is not in the built-in tables, so enter the rule manually.'),
	UNSUPPORTED_TYPE:  _('This MAP type cannot be set up; use MAP-E (MAP-T and LW4over6 are only calculated).'),
	NO_TUNLINK:        _('The tunnel link interface is missing, or its device does not exist; set the tunnel link (e.g. wan6).'),
	NO_PERMISSION:     _('The mapehelper program lacks the permission to create the tunnel or the firewall rules.'),
	NO_KERNEL_SUPPORT: _('The kernel lacks a module MAP-E needs (ip6_tunnel, nftables NAT, ct count or tc); install kmod-ip6-tunnel, kmod-nft-nat, kmod-nft-connlimit and kmod-sched-core.'),
	FIREWALL_FAILED:   _('The firewall rules for the port sets could not be installed; MAP-E stays down until the cause is fixed (the system log has the details).'),
	TUNNEL_FAILED:     _('The IPv4-in-IPv6 tunnel could not be created; MAP-E stays down until the cause is fixed.'),
	MISSING_PREFIX:    _('No delegated IPv6 prefix or global IPv6 address is known yet on the tunnel link.'),
	BUSY:              _('Another start or stop of this interface, or a firewall reload, was still running; it is tried again in a moment.'),
	FAILED:            _('Setting up MAP-E failed; the system log (logread) has the details.')
};

for (var code in errorCodes)
	network.registerErrorCode(code, errorCodes[code]);

network.registerPatternVirtual(/^map-.+$/);

// The rule options a manual rule consists of; they are cleared when the
// user switches back to automatic.
var ruleOptions = [ 'peeraddr', 'ipaddr', 'ip4prefixlen', 'ip6prefix', 'ip6prefixlen',
                    'ealen', 'psidlen', 'psid', 'offset', 'rule' ];

var intOptions = [ 'ip4prefixlen', 'ip6prefixlen', 'ealen', 'psidlen', 'psid', 'offset' ];

// formValue reads the current widget value of option name in section.
// Going through the section's own children matters: in the edit dialog
// LuCI copies the options into a new map, and only those copies find the
// dialog's widgets. While the dialog renders, a widget may not exist yet
// (formvalue is null): the loaded value is what it will show.
function formValue(section, section_id, name) {
	var kids = section.children || [];
	for (var i = 0; i < kids.length; i++) {
		if (kids[i].option != name)
			continue;
		var v = kids[i].formvalue(section_id);
		return (v != null) ? v : kids[i].cfgvalue(section_id);
	}
	return null;
}

// describeError turns a calc/status error answer into a sentence.
function describeError(res) {
	if (typeof(res) == 'number')
		return _('The mapehelper plugin failed (ubus status') + ' ' + res + ').';
	if (res && errorCodes[res.code])
		return errorCodes[res.code] + ' (' + res.error + ')';
	return (res && res.error) ? res.error : _('No answer from mapehelper.');
}

function formatSet(p) {
	return (p[0] == p[1]) ? String(p[0]) : p[0] + '-' + p[1];
}

// setsNode lists port sets; a range never breaks across lines.
function setsNode(sets) {
	var nodes = [];
	(sets || []).forEach(function(p, i) {
		if (i > 0)
			nodes.push(' ');
		nodes.push(E('span', { 'style': 'white-space:nowrap' }, formatSet(p)));
	});
	return E('code', { 'style': 'white-space:normal' }, nodes);
}

// calcParams collects what the calculator needs from the form: the typed
// preview prefix, else the prefix found on the tunnel link, and the rule
// options when the rule is manual. Integers are sent as numbers and
// legacymap as a boolean, the types the plugin declares.
function calcParams(section, section_id, prefix, typeOption) {
	var p = { prefix: prefix };
	var legacy = formValue(section, section_id, 'legacymap');

	if (legacy == '0' || legacy == '1')
		p.legacymap = (legacy == '1');

	if (formValue(section, section_id, '_mode') != 'manual')
		return p;

	var type = formValue(section, section_id, typeOption);
	if (type)
		p.type = type;

	ruleOptions.forEach(function(name) {
		var v = formValue(section, section_id, name);
		if (v == null || v === '')
			return;
		p[name] = (intOptions.indexOf(name) > -1) ? parseInt(v, 10) : String(v);
	});

	return p;
}

// linkPrefix finds the prefix of the tunnel link: its delegated prefix,
// else its first global IPv6 address (standing for its /64).
function linkPrefix(tunlink) {
	if (!tunlink)
		return Promise.resolve(null);

	return network.getNetwork(tunlink).then(function(net) {
		if (!net)
			return null;
		var pd = net.getIP6Prefix ? net.getIP6Prefix() : null;
		if (pd)
			return pd;
		var addrs = net.getIP6Addrs ? net.getIP6Addrs() : [];
		for (var i = 0; i < addrs.length; i++)
			if (!/^f[ce]/i.test(addrs[i]))
				return addrs[i].split('/')[0];
		return null;
	});
}

function row(label, value) {
	return E('tr', {}, [ E('th', { 'style': 'text-align:left; padding-right:1em' }, label), E('td', {}, value) ]);
}

function renderPreview(res) {
	if (!res || typeof(res) != 'object' || res.error)
		return E('em', { 'class': 'mape-preview-error' }, describeError(res));

	return E('table', { 'class': 'mape-preview' }, [
		row(_('Provider'), res.isp || _('manual rule')),
		row(_('IPv4 address'), res.ipv4),
		row(_('PSID'), String(res.psid) + ' (' + _('PSID length') + ' ' + res.psidlen + ', ' + _('offset') + ' ' + res.offset + ')'),
		row(_('CE IPv6 address'), res.ce),
		row(_('Border relay'), res.br || '-'),
		row(_('Ports'), String(res.ports) + ' ' + _('in') + ' ' + (res.port_sets || []).length + ' ' + _('port sets')),
		row(_('Port sets'), setsNode(res.port_sets))
	]);
}

function renderStatus(list) {
	var st = (list || [])[0];

	if (!st)
		return E('em', {}, _('Not set up: the interface is down or has not been started yet.'));

	// null is a check the backend could not make (e.g. no permission):
	// shown as unknown, never as down, missing or zero.
	var up = (st.state == 'up');
	var known = function(v, yes, no) {
		return (v == null) ? _('unknown') : (v ? yes : no);
	};
	// free_ports, lan_hosts and nat_pressure help fix a port forward;
	// null where the backend could not read conntrack.
	var free = up ? st.free_ports : null;
	var np = st.nat_pressure;
	var tryPorts = free ? free.suggestions.join(', ') : '';
	var nodes = [
		E('table', { 'class': 'mape-status' }, [
			row(_('State'), st.state || '-'),
			row(_('IPv4 address'), st.ipv4 || '-'),
			row(_('Tunnel'), (st.tunnel || '-') + ' ' + known(st.tunnel_up, _('up'), _('down'))),
			row(_('Firewall rules'), known(st.nft_rules, _('present'), _('missing'))),
			row(_('Ports in use'), !up ? _('none: the interface is not up')
				: (st.ports_in_use == null) ? _('unknown') : _('see the table below')),
			row(_('Usable external ports'), up ? setsNode(st.usable_external_ports) : _('none: the interface is not up')),
			row(_('Free external ports'), !up ? _('none: the interface is not up')
				: (free == null) ? _('unknown')
				: free.total + ' ' + _('of') + ' ' + st.ports + (free.suggestions.length ? '; ' + _('for a new port forward, e.g.') + ' ' + tryPorts : '')),
			row(_('Connection tracking'), (np == null) ? _('unknown')
				: _('%d of %d entries; insert failed %d, dropped %d, early drops %d').format(
					np.count, np.max, np.insert_failed, np.drop, np.early_drop))
		])
	];

	if (st.last_error)
		nodes.push(E('p', { 'class': 'alert-message warning' },
			(errorCodes[st.error_code] || '') + ' ' + st.last_error));

	var sets = (up && st.ports_in_use && st.ports_in_use.sets) || [];
	if (sets.length) {
		nodes.push(E('table', { 'class': 'table mape-usage' }, [
			E('tr', { 'class': 'tr table-titles' }, [
				E('th', { 'class': 'th' }, _('Port set')),
				E('th', { 'class': 'th' }, _('TCP ports in use')),
				E('th', { 'class': 'th' }, _('UDP ports in use')),
				E('th', { 'class': 'th' }, _('Free ports'))
			])
		].concat(sets.map(function(u, i) {
			var f = free && free.sets[i];
			return E('tr', { 'class': 'tr' }, [
				E('td', { 'class': 'td' }, formatSet(u.set)),
				E('td', { 'class': 'td' }, String(u.tcp)),
				E('td', { 'class': 'td' }, String(u.udp)),
				E('td', { 'class': 'td' }, f ? String(f.free) : '-')
			]);
		}))));
	}

	var hosts = (up && st.lan_hosts && st.lan_hosts.top) || [];
	if (hosts.length) {
		nodes.push(E('table', { 'class': 'table mape-hosts' }, [
			E('tr', { 'class': 'tr table-titles' }, [
				E('th', { 'class': 'th' }, _('Host')),
				E('th', { 'class': 'th' }, _('TCP ports held')),
				E('th', { 'class': 'th' }, _('UDP ports held')),
				E('th', { 'class': 'th' }, _('Connections'))
			])
		].concat(hosts.map(function(h) {
			return E('tr', { 'class': 'tr' }, [
				E('td', { 'class': 'td' }, h.address + (h.address == st.ipv4 ? ' (' + _('this router') + ')' : '')),
				E('td', { 'class': 'td' }, String(h.tcp)),
				E('td', { 'class': 'td' }, String(h.udp)),
				E('td', { 'class': 'td' }, String(h.flows))
			]);
		}))));
		if (st.lan_hosts.total > hosts.length)
			nodes.push(E('p', {}, _('and %d more hosts').format(st.lan_hosts.total - hosts.length)));
	}

	(st.redirects || []).forEach(function(r) {
		if (r.verdict == 'usable')
			return;
		nodes.push(E('p', { 'class': 'alert-message warning mape-redirect' },
			_('Port forward') + ' ' + (r.name || r.src_dport || '') + ': ' + r.message +
			(tryPorts ? '. ' + _('Free external ports to use instead:') + ' ' + tryPorts + '.' : '')));
	});

	return E('div', {}, nodes);
}

// tunnelName is the binary's tunnel.DeviceName (Go, the one definition;
// test vectors in tunnel/testdata/names.json): 'map-' + the interface name
// when that fits Linux's 15 bytes, else 'map-', its first 5 characters,
// '-' and 5 hex digits of its FNV-1a 32-bit hash. Interface names are
// ASCII (UCI section names).
function tunnelName(sid) {
	var n = 'map-' + sid;
	if (n.length <= 15)
		return n;
	var h = 0x811c9dc5;
	for (var i = 0; i < sid.length; i++)
		h = Math.imul(h ^ sid.charCodeAt(i), 0x01000193) >>> 0;
	return 'map-' + sid.substring(0, 5) + '-' + ('0000' + (h & 0xfffff).toString(16)).slice(-5);
}

var proto = {
	// The UCI option holding the MAP type ('maptype' is the stock map
	// page's, which the handler also reads).
	typeOption: 'type',

	getI18n: function() {
		return _('MAP-E (mapehelper)');
	},

	getIfname: function() {
		return this._ubus('l3_device') || tunnelName(this.sid);
	},

	// LuCI's default device of a virtual protocol is '<proto>-<sid>'
	// (mape-wanmap), a device that never exists: ours is tunnelName's. The
	// interface list shows it, with MAC and counters once it exists.
	getDevice: function() {
		return network.instantiateDevice(this.getIfname(), this, {
			getType: function() { return 'tunnel'; }
		});
	},

	// LuCI keeps the first sentence registered for a code, and the stock
	// map.js registers three of ours (shorter ones) in a load-order race:
	// our interfaces always show our sentences.
	getErrors: function() {
		var errors = this._ubus('errors'),
		    rv = null;

		if (!Array.isArray(errors))
			return null;
		for (var i = 0; i < errors.length; i++) {
			if (!L.isObject(errors[i]) || typeof(errors[i].code) != 'string')
				continue;
			rv = rv || [];
			rv.push(errorCodes[errors[i].code] || _('Unknown error (%s)').format(errors[i].code));
		}
		return rv;
	},

	getOpkgPackage: function() {
		return 'mapehelper';
	},

	isFloating: function() {
		return true;
	},

	isVirtual: function() {
		return true;
	},

	getDevices: function() {
		return null;
	},

	containsDevice: function(ifname) {
		return (network.getIfnameOf(ifname) == this.getIfname());
	},

	renderFormOptions: function(s) {
		var o, typeOption = this.typeOption;

		// -- general ----------------------------------------------------------

		o = s.taboption('general', widgets.NetworkSelect, 'tunlink', _('Tunnel link'),
			_('The IPv6 interface (usually <em>wan6</em>) whose delegated prefix or address determines the MAP rule.'));
		o.nocreate = true;
		o.exclude = s.section;
		o.rmempty = false;

		o = s.taboption('general', form.ListValue, '_mode', _('MAP rule'));
		o.value('auto', _('Automatic (by prefix)'));
		o.value('manual', _('Manual'));
		o.default = 'auto';
		o.load = function(section_id) {
			for (var i = 0; i < ruleOptions.length; i++)
				if (uci.get('network', section_id, ruleOptions[i]))
					return 'manual';
			return 'auto';
		};
		o.write = function() {};
		o.remove = function() {};

		o = s.taboption('general', form.ListValue, typeOption, _('Type'));
		o.value('map-e', 'MAP-E');
		o.value('map-t', 'MAP-T');
		o.value('lw4o6', 'LW4over6');
		o.depends('_mode', 'manual');

		o = s.taboption('general', form.Value, 'peeraddr', _('BR / DMR / AFTR'), _('IPv6 address of the border relay.'));
		o.datatype = 'ip6addr';
		o.depends('_mode', 'manual');

		o = s.taboption('general', form.Value, 'ipaddr', _('IPv4 prefix'));
		o.datatype = 'ip4addr("nomask")';
		o.depends('_mode', 'manual');

		o = s.taboption('general', form.Value, 'ip4prefixlen', _('IPv4 prefix length'));
		o.datatype = 'range(0,32)';
		o.placeholder = '32';
		o.depends('_mode', 'manual');

		o = s.taboption('general', form.Value, 'ip6prefix', _('IPv6 prefix'), _('The rule IPv6 prefix of the provider, usually ends with <code>::</code>.'));
		o.datatype = 'ip6addr("nomask")';
		o.depends('_mode', 'manual');

		o = s.taboption('general', form.Value, 'ip6prefixlen', _('IPv6 prefix length'));
		o.datatype = 'range(0,64)';
		o.depends('_mode', 'manual');

		o = s.taboption('general', form.Value, 'ealen', _('EA-bits length'));
		o.datatype = 'range(0,48)';
		o.depends('_mode', 'manual');

		o = s.taboption('general', form.Value, 'psidlen', _('PSID-bits length'));
		o.datatype = 'range(0,16)';
		o.depends('_mode', 'manual');

		o = s.taboption('general', form.Value, 'psid', _('PSID'), _('Only for rules whose EA bits do not carry the PSID.'));
		o.datatype = 'range(0,65535)';
		o.depends('_mode', 'manual');

		o = s.taboption('general', form.Value, 'offset', _('PSID offset'));
		o.datatype = 'range(0,16)';
		o.placeholder = '6';
		o.depends('_mode', 'manual');

		o = s.taboption('general', form.Value, 'rule', _('Rule string'), _('A DHCPv6 S46 rule as the stock mapcalc accepts it; it takes precedence over the fields above.'));
		o.depends('_mode', 'manual');

		o = s.taboption('general', form.Value, '_prefix', _('Preview for prefix'),
			_('Leave empty to use the prefix of the tunnel link. Only used for the preview below, never saved.'));
		o.datatype = 'ip6addr';
		o.placeholder = _('prefix of the tunnel link');
		o.modalonly = true;
		o.load = function() { return null; };
		o.write = function() {};
		o.remove = function() {};

		o = s.taboption('general', form.DummyValue, '_preview', _('Preview'));
		o.modalonly = true;
		o.rawhtml = true;
		o.renderWidget = function(section_id) {
			var node = E('div', { 'class': 'mape-preview-box' }, E('em', {}, _('Computing…'))),
			    section = this.section,
			    timer = null;

			var seen = false;
			var update = function() {
				// A change timer may fire after the dialog was closed or
				// re-rendered (Save): its widgets are gone, nothing to update.
				if (seen && !node.isConnected)
					return Promise.resolve(null);

				return Promise.resolve().then(function() {
					var typed = formValue(section, section_id, '_prefix');
					return typed ? typed : linkPrefix(formValue(section, section_id, 'tunlink'));
				}).then(function(prefix) {
					if (!prefix)
						return { code: 'MISSING_PREFIX', error: _('enter a prefix to preview') };
					return calc(calcParams(section, section_id, prefix, typeOption));
				}).catch(function(err) {
					return { error: String(err) };
				}).then(function(res) {
					while (node.firstChild)
						node.removeChild(node.firstChild);
					node.appendChild(renderPreview(res));
					return res;
				});
			};

			// Any widget change in the form recomputes the preview, debounced.
			// The listener leaves once the dialog is closed.
			var onChange = function() {
				if (node.isConnected)
					seen = true;
				else if (seen)
					return document.removeEventListener('widget-change', onChange);
				window.clearTimeout(timer);
				timer = window.setTimeout(update, 300);
			};

			document.addEventListener('widget-change', onChange);

			node.mapeUpdate = update;
			update();
			return node;
		};

		o = s.taboption('general', form.DummyValue, '_status', _('Status'));
		o.modalonly = true;
		o.rawhtml = true;
		o.renderWidget = function(section_id) {
			var node = E('div', { 'class': 'mape-status-box' }, E('em', {}, _('Loading…')));

			node.mapeUpdate = function() {
				return callStatus(section_id).catch(function() { return []; }).then(function(list) {
					while (node.firstChild)
						node.removeChild(node.firstChild);
					node.appendChild(renderStatus(list));
					return list;
				});
			};
			node.mapeUpdate();
			return node;
		};

		// -- advanced ---------------------------------------------------------

		o = s.taboption('advanced', form.ListValue, 'legacymap', _('Interface identifier'),
			_('The layout of the CE IPv6 address. Japanese providers use the legacy (draft) layout; the built-in tables know which.'));
		o.value('', _('automatic (from the provider table)'));
		o.value('1', _('legacy (draft-ietf-softwire-map-00)'));
		o.value('0', _('RFC 7597'));

		o = s.taboption('advanced', form.Value, 'mtu', _('Use MTU on tunnel interface'));
		o.datatype = 'range(1280,9200)';
		o.placeholder = '1460';

		o = s.taboption('advanced', form.Value, 'ttl', _('Use TTL on tunnel interface'));
		o.datatype = 'range(1,255)';
		o.placeholder = '64';

		o = s.taboption('advanced', form.Value, 'encaplimit', _('Encapsulation limit'),
			_('<code>ignore</code> (no limit option, what most border relays expect) or a number of nested encapsulations, 0-255.'));
		o.datatype = 'or("ignore", range(0,255))';
		o.placeholder = 'ignore';

		o = s.taboption('advanced', form.Flag, 'vrange', _('One virtual port range'),
			_('Let the kernel pick any free port of all the sets (one virtual range) instead of counting connections per set: new connections keep working when almost every port towards one destination is in use. LAN source ports are not kept, and ICMP errors do not reach LAN hosts. See the README.'));
		o.default = o.disabled;

		o = s.taboption('advanced', widgets.ZoneSelect, 'zone', _('Firewall zone'),
			_('The zone the tunnel interface joins; usually <em>wan</em>.'));
		o.nocreate = true;
	}
};

return network.registerProtocol('mape', proto);
