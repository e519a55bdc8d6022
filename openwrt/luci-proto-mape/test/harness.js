// A small stand-in for the LuCI client APIs protocol/mape.js calls
// ('require form', network, rpc, uci, ui, tools.widgets), used by the node
// tests (with a fake DOM) and by the browser page the screenshot is taken
// from (with the real DOM). It records what the module registers and
// every rpc call it makes, so tests assert on those.
(function(root) {
	'use strict';

	// A minimal LuCI-style String.prototype.format (%s, %d, %h).
	if (!String.prototype.format) {
		String.prototype.format = function() {
			var args = arguments, i = 0;
			return this.replace(/%([sdh%])/g, function(m, c) {
				if (c == '%')
					return '%';
				var v = args[i++];
				return c == 'd' ? String(parseInt(v, 10)) : String(v);
			});
		};
	}

	// fakeE builds plain element objects for node: enough for the module's
	// E(tag, attrs, children), appendChild/removeChild and text inspection.
	function fakeE(tag, attrs, children) {
		if (Array.isArray(attrs) || typeof(attrs) == 'string' || (attrs && attrs.tag)) {
			children = attrs;
			attrs = {};
		}
		var el = {
			tag: tag, attrs: attrs || {}, children: [], isConnected: true,
			appendChild: function(c) { this.children.push(c); return c; },
			removeChild: function(c) { this.children.splice(this.children.indexOf(c), 1); return c; },
			get firstChild() { return this.children[0] || null; },
			get textContent() {
				return this.children.map(function(c) { return typeof(c) == 'object' ? c.textContent : String(c); }).join(' ');
			}
		};
		[].concat(children == null ? [] : children).forEach(function(c) { if (c != null) el.children.push(c); });
		return el;
	}

	// domE is LuCI's E() for a real document.
	function domE(doc) {
		return function E(tag, attrs, children) {
			if (Array.isArray(attrs) || typeof(attrs) == 'string' || (attrs && attrs.nodeType)) {
				children = attrs;
				attrs = {};
			}
			var el = doc.createElement(tag);
			Object.keys(attrs || {}).forEach(function(k) {
				if (attrs[k] == null)
					return;
				if (typeof(attrs[k]) == 'function')
					el.addEventListener(k, attrs[k]);
				else
					el.setAttribute(k, attrs[k]);
			});
			[].concat(children == null ? [] : children).forEach(function(c) {
				if (c == null)
					return;
				el.appendChild(typeof(c) == 'object' ? c : doc.createTextNode(String(c)));
			});
			return el;
		};
	}

	// Option classes: only their identity matters to the tests.
	function cls(name) {
		var f = function() {};
		f.className = name;
		return f;
	}

	function FakeOption(klass, section, name, title, description) {
		this.klass = klass;
		this.className = klass.className;
		this.section = section;
		this.option = name;
		this.title = title;
		this.description = description;
		this.deps = [];
		this.choices = [];
		this.tab = null;
	}
	// formvalue is what the option's widget holds, as in LuCI.
	// While LuCI renders the dialog, widgets not rendered yet have no value
	// (formvalue null); section.rendering models that.
	// After the dialog closed (section.closed) LuCI's formvalue throws: the
	// map's DOM node is gone (dom.findClassInstance on undefined).
	FakeOption.prototype.formvalue = function(sid) {
		if (this.section.closed)
			throw new TypeError("Cannot read properties of undefined (reading '_class')");
		return this.section.rendering ? null : this.section.formvalue(sid, this.option);
	};
	// cfgvalue is the loaded value (option.load, else UCI), as in LuCI.
	FakeOption.prototype.cfgvalue = function(sid) {
		var v = this.load ? this.load(sid) : this.section.luci.modules.uci.get('network', sid, this.option);
		return v == null ? null : v;
	};
	FakeOption.prototype.value = function(key, label) { this.choices.push([ key, label == null ? key : label ]); };
	FakeOption.prototype.depends = function(field, value) {
		var d = {};
		if (typeof(field) == 'string')
			d[field] = value;
		else
			d = field;
		this.deps.push(d);
	};

	// FakeSection is a NamedSection of config 'network' for one interface.
	function FakeSection(luci, sid) {
		this.luci = luci;
		this.section = sid;
		this.tabs = {};
		this.tabNames = [];
		this.options = [];
		this.children = this.options; // LuCI's name for the option list
		this.values = {}; // what the user typed, by option name
	}
	FakeSection.prototype.tab = function(name, title) {
		this.tabs[name] = title;
		this.tabNames.push(name);
	};
	FakeSection.prototype.taboption = function(tab, klass, name, title, description) {
		if (!this.tabs[tab])
			throw new Error('tab ' + tab + ' not declared');
		var o = new FakeOption(klass, this, name, title, description);
		o.tab = tab;
		o.map = { config: 'network' };
		this.options.push(o);
		return o;
	};
	FakeSection.prototype.getOption = function(name) {
		return this.options.filter(function(o) { return o.option == name; })[0] || null;
	};
	// initialValue is what LuCI would put in the widget: the loaded value
	// (option.load, else UCI), else the default.
	FakeSection.prototype.initialValue = function(name) {
		var o = this.getOption(name);
		var v = (o && o.load) ? o.load(this.section) : this.luci.modules.uci.get('network', this.section, name);
		if (v == null && o && o.default != null)
			v = o.default;
		return v == null ? null : v;
	};
	FakeSection.prototype.formvalue = function(sid, name) {
		if (sid != this.section)
			throw new Error('formvalue for unknown section ' + sid);
		if (Object.prototype.hasOwnProperty.call(this.values, name))
			return this.values[name];
		return this.initialValue(name);
	};
	FakeSection.prototype.isActive = function(o) {
		if (!o.deps.length)
			return true;
		var self = this;
		return o.deps.some(function(d) {
			return Object.keys(d).every(function(k) { return self.formvalue(self.section, k) == d[k]; });
		});
	};

	// createLuCI builds the fake modules. opts: E, document, uci
	// ({section: {option: value}}), networks ({name: {prefix, addrs}}),
	// calc(params) and status(params) returning answers or promises.
	function createLuCI(opts) {
		var rec = { protocols: {}, errorCodes: {}, virtual: [], rpc: [], declared: [] };
		var uciData = opts.uci || {};
		var luci = { rec: rec };

		var backends = {
			'mape.calc': opts.calc || function() { return {}; },
			'mape.status': opts.status || function() { return { interfaces: [] }; }
		};

		luci.modules = {
			form: { Value: cls('Value'), Flag: cls('Flag'), ListValue: cls('ListValue'), DummyValue: cls('DummyValue') },
			widgets: { NetworkSelect: cls('NetworkSelect'), ZoneSelect: cls('ZoneSelect') },
			ui: {},
			uci: {
				get: function(conf, sid, opt) {
					var s = uciData[sid];
					return (conf == 'network' && s && s[opt] != null) ? s[opt] : null;
				}
			},
			rpc: {
				// Like LuCI: positional arguments become named parameters;
				// undefined ones are dropped, as JSON.stringify drops them.
				declare: function(d) {
					rec.declared.push(d);
					return function() {
						var params = {};
						for (var i = 0; i < (d.params || []).length; i++)
							if (arguments[i] !== undefined)
								params[d.params[i]] = arguments[i];
						var key = d.object + '.' + d.method;
						rec.rpc.push({ method: key, params: params });
						return Promise.resolve(backends[key](params)).then(function(ret) {
							if (d.expect)
								for (var k in d.expect) {
									if (ret != null && k != '')
										ret = ret[k];
									if (ret == null || Object.prototype.toString.call(ret) != Object.prototype.toString.call(d.expect[k]))
										ret = d.expect[k];
									break;
								}
							return ret;
						});
					};
				}
			},
			network: {
				registerProtocol: function(name, methods) {
					rec.protocols[name] = methods;
					return methods;
				},
				registerErrorCode: function(code, msg) { rec.errorCodes[code] = msg; },
				registerPatternVirtual: function(re) { rec.virtual.push(re); },
				getIfnameOf: function(x) { return x; },
				getNetwork: function(name) {
					var n = (opts.networks || {})[name];
					return Promise.resolve(n ? {
						getIP6Prefix: function() { return n.prefix || null; },
						getIP6Addrs: function() { return n.addrs || []; }
					} : null);
				}
			}
		};
		luci.E = opts.E || fakeE;
		luci._ = function(s) { return s; };
		return luci;
	}

	// loadProtocol evaluates the module source the way LuCI's loader does:
	// each 'require a.b as x' line names a parameter, the body returns the
	// module's value.
	function loadProtocol(source, luci) {
		var names = [], values = [];
		var re = /^\s*'require ([\w.]+)(?: as (\w+))?';/gm, m;
		while ((m = re.exec(source)) != null) {
			var path = m[1].split('.');
			var name = m[2] || path[path.length - 1];
			var mod = luci.modules[name];
			if (!mod)
				throw new Error('module requires unknown ' + m[1]);
			names.push(name);
			values.push(mod);
		}
		var fn = new Function(names.concat([ '_', 'E' ]).join(','), source);
		return fn.apply({}, values.concat([ luci._, luci.E ]));
	}

	// buildForm runs renderFormOptions of protocol name for interface sid
	// into a FakeSection with the usual general/advanced tabs.
	function buildForm(luci, name, sid) {
		var methods = luci.rec.protocols[name];
		var inst = Object.create(methods);
		inst.sid = sid;
		inst._ubus = function() { return null; };
		var s = new FakeSection(luci, sid);
		s.tab('general', 'General Settings');
		s.tab('advanced', 'Advanced Settings');
		methods.renderFormOptions.call(inst, s);
		return { section: s, proto: inst };
	}

	// renderDOM draws the form for the browser page: a LuCI-like layout,
	// with depends evaluated on every change and widget-change events
	// dispatched like LuCI's widgets do.
	function renderDOM(luci, form, doc, networks, zones) {
		var E = luci.E, s = form.section, rows = [];
		var root = E('div', { 'class': 'cbi-section' });
		var refresh = function() {
			rows.forEach(function(r) { r.row.style.display = s.isActive(r.opt) ? '' : 'none'; });
		};
		var changed = function(name, value, widget) {
			s.values[name] = value;
			refresh();
			widget.dispatchEvent(new CustomEvent('widget-change', { bubbles: true }));
		};
		s.tabNames.forEach(function(tab) {
			var tabEl = E('fieldset', { 'class': 'cbi-tab', 'data-tab': tab }, [ E('legend', {}, s.tabs[tab]) ]);
			s.options.filter(function(o) { return o.tab == tab; }).forEach(function(o) {
				var widget, v = s.initialValue(o.option);
				switch (o.className) {
				case 'DummyValue':
					widget = o.renderWidget(s.section);
					break;
				case 'Flag':
					widget = E('input', { type: 'checkbox' });
					widget.checked = (v == '1');
					widget.addEventListener('change', function() { changed(o.option, widget.checked ? '1' : '0', widget); });
					break;
				case 'ListValue':
				case 'NetworkSelect':
				case 'ZoneSelect':
					var choices = o.className == 'ListValue' ? o.choices
						: (o.className == 'NetworkSelect' ? networks : zones).map(function(n) { return [ n, n ]; });
					widget = E('select', {}, choices.map(function(c) { return E('option', { value: c[0] }, c[1]); }));
					widget.value = v == null ? '' : v;
					widget.addEventListener('change', function() { changed(o.option, widget.value, widget); });
					break;
				default:
					widget = E('input', { type: 'text', placeholder: o.placeholder || '' });
					widget.value = v == null ? '' : v;
					widget.addEventListener('input', function() { changed(o.option, widget.value, widget); });
				}
				var field = E('div', { 'class': 'cbi-value-field' }, [ widget ]);
				if (o.description)
					field.appendChild(E('div', { 'class': 'cbi-value-description' }, [])).innerHTML = o.description;
				var row = E('div', { 'class': 'cbi-value', 'data-name': o.option }, [
					E('label', { 'class': 'cbi-value-title' }, o.title || ''), field
				]);
				rows.push({ row: row, opt: o });
				tabEl.appendChild(row);
			});
			root.appendChild(tabEl);
		});
		refresh();
		return root;
	}

	var api = { createLuCI: createLuCI, loadProtocol: loadProtocol, buildForm: buildForm, renderDOM: renderDOM, fakeE: fakeE, domE: domE };
	if (typeof(module) == 'object' && module.exports)
		module.exports = api;
	else
		root.MapeHarness = api;
})(this);
