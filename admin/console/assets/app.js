// keygate console: a framework-free client of /admin/v1.
//
// The admin credential lives in this tab's sessionStorage and is sent as
// "Authorization: Bearer" on every call; nothing else is stored and no
// cookie is set. Every text that comes from the API reaches the page through
// textContent or form values, never as HTML.
'use strict';

(() => {
  const API = '/admin/v1';
  const CRED = 'keygate.credential';
  const main = document.getElementById('main');
  const nav = document.getElementById('nav');

  // ---- DOM helpers -------------------------------------------------------

  // h builds an element: h('a', {href: '#/x', text: 'x'}, child...).
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') el.textContent = v;
      else if (k === 'class') el.className = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const kid of kids) {
      if (kid !== null && kid !== undefined) el.append(kid);
    }
    return el;
  }

  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  function view(id) {
    const frag = document.getElementById(id).content.cloneNode(true);
    main.replaceChildren(frag);
    const title = $('h1', main);
    if (title) title.focus({preventScroll: true});
  }

  function row(...cells) {
    return h('tr', null, ...cells.map((c) => (c instanceof Node ? h('td', null, c) : h('td', {text: c}))));
  }

  function emptyRow(tbody, cols, text) {
    tbody.append(h('tr', null, h('td', {colspan: String(cols), class: 'empty', text})));
  }

  // time shows an RFC 3339 UTC time as "2026-12-05 14:03 UTC", or a dash.
  function time(s) {
    if (!s) return '—';
    return s.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');
  }

  const count = (n, noun) => n + ' ' + noun + (n === 1 ? '' : 's');
  const list = (a) => (a && a.length ? a.join(', ') : '—');

  // creditsText shows a key's credits: "unlimited", "3 (no refill)",
  // "120 (refill 1000 monthly, day 1)". The balance is the one the store
  // holds: the gateway may have leased a few of it already (see README).
  function creditsText(c) {
    if (!c) return 'unlimited';
    if (!c.refill) return c.remaining + ' (no refill)';
    const when = c.refill.interval === 'monthly' ? 'monthly, day ' + (c.refill.day || 1) : c.refill.interval;
    return c.remaining + ' (refill ' + c.refill.amount + ' ' + when + ')';
  }

  function statusBadge(el, status) {
    el.textContent = status;
    el.className = 'status status-' + status;
  }

  function keyLink(id, label) {
    return h('a', {href: '#/keys/' + encodeURIComponent(id), text: label || id});
  }

  // ---- the API -----------------------------------------------------------

  class APIError extends Error {
    constructor(status, body) {
      super((body && body.error) || 'HTTP ' + status);
      this.status = status;
      this.details = (body && body.details) || {};
    }
  }

  function credential() {
    return sessionStorage.getItem(CRED);
  }

  // call sends one request to the admin API and answers its JSON body, or
  // throws an APIError carrying the API's error and details.
  async function call(method, path, body, cred) {
    const headers = {Authorization: 'Bearer ' + (cred || credential() || ''), Accept: 'application/json'};
    const init = {method, headers, credentials: 'omit', cache: 'no-store', redirect: 'error'};
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let resp;
    try {
      resp = await fetch(API + path, init);
    } catch (e) {
      throw new APIError(0, {error: 'keygate did not answer: ' + e.message});
    }
    let data = null;
    if (resp.status !== 204) {
      try {
        data = await resp.json();
      } catch (e) {
        data = null;
      }
    }
    if (!resp.ok) {
      const err = new APIError(resp.status, data);
      if (resp.status === 401 && !cred) signOut('Your credential was refused (' + err.message + '). Sign in again.');
      throw err;
    }
    return data;
  }

  // ---- errors in place ---------------------------------------------------

  function clearErrors(form) {
    const top = $('.error', form);
    if (top) top.textContent = '';
    for (const el of $$('.field-error', form)) el.textContent = '';
    for (const el of $$('[aria-invalid]', form)) el.removeAttribute('aria-invalid');
  }

  // showErrors puts the API's message at the top of the form and each
  // detail beside its field ("rate_limits[1]" belongs to rate_limits,
  // "credits.refill.day" to the input with id prefix + credits-refill-day).
  function showErrors(form, err, prefix) {
    const top = $('.error', form);
    const left = [];
    for (const [field, msg] of Object.entries(err.details || {})) {
      const name = field.replace(/\[\d+\]$/, '').replace(/\./g, '-');
      const slot = document.getElementById(prefix + name + '-err');
      const input = document.getElementById(prefix + name);
      if (slot) {
        slot.textContent = (slot.textContent ? slot.textContent + '; ' : '') + field + ' ' + msg;
        if (input) input.setAttribute('aria-invalid', 'true');
      } else {
        left.push(field + ' ' + msg);
      }
    }
    if (top) top.textContent = err.message + (left.length ? ': ' + left.join('; ') : '');
    const bad = $('[aria-invalid]', form);
    if (bad) bad.focus();
  }

  function fail(el, err) {
    if (err instanceof APIError && err.status === 401 && !credential()) return;
    el.textContent = err.message;
  }

  // ---- the key form, shared by create and edit ----------------------------

  const split = (s) => s.split(/[\n,]/).map((x) => x.trim()).filter(Boolean);

  // keyFields are the editable fields of a key. A new field of the key
  // object is one more entry here.
  const keyFields = [
    {name: 'name', label: 'Name', required: true},
    {name: 'owner', label: 'Owner', help: 'Who the key is for, e.g. partner-42.'},
    {name: 'scopes', label: 'Scopes', kind: 'textarea', list: true,
      help: 'One per line, e.g. odoo:res.partner:read or route:GET:/api/**. None: no access.'},
    {name: 'rate_limits', label: 'Rate limits', list: true,
      help: 'Comma-separated count/window, e.g. 10/1s, 5000/1h. Empty: the defaults.'},
    {name: 'ip_allowlist', label: 'IP allowlist', list: true,
      help: 'Comma-separated addresses or networks, e.g. 203.0.113.0/24. Empty: any.'},
    {name: 'ttl', label: 'Expires after', only: 'create', help: 'A duration such as 720h. Empty: never.'},
    {name: 'expires_at', label: 'Expires at', only: 'edit', help: 'RFC 3339 UTC, e.g. 2027-01-31T00:00:00Z. Empty: never.'},
    {name: 'credential_id', label: 'Service account', kind: 'credential',
      help: 'The Odoo account the key acts as. None: the default account.'},
    {name: 'credits', kind: 'credits'},
  ];

  // creditsFieldset is the credits part of the key form: a balance and a
  // refill schedule, with ids that match the API's details keys
  // ("credits.refill.amount" → prefix + "credits-refill-amount").
  function creditsFieldset(prefix, mode) {
    const input = (name, label, help, attrs) => {
      const id = prefix + name;
      const el = h(attrs && attrs.tag === 'select' ? 'select' : 'input',
        Object.assign({id, name, 'aria-describedby': (help ? id + '-help ' : '') + id + '-err'},
          attrs && attrs.tag === 'select' ? {} : {inputmode: 'numeric', spellcheck: 'false', autocomplete: 'off'}),
        ...((attrs && attrs.options) || []));
      return h('div', {class: 'field'}, h('label', {for: id, text: label}), el,
        help ? h('small', {id: id + '-help', text: help}) : null,
        h('small', {class: 'field-error', id: id + '-err'}));
    };
    const help = mode === 'edit'
      ? 'Saving a new balance or schedule here replaces both; to add or take away credits use the Credits panel.'
      : 'Each request the key is allowed spends one credit; at 0 it is refused until the refill.';
    return h('fieldset', {class: 'credits', 'aria-describedby': prefix + 'credits-help ' + prefix + 'credits-err'},
      h('legend', {text: 'Credits'}),
      h('small', {id: prefix + 'credits-help', class: 'wide', text: help}),
      h('small', {class: 'field-error wide', id: prefix + 'credits-err'}),
      input('credits-remaining', 'Credits remaining', 'A whole number. Empty: unlimited (with a refill: start at its amount).'),
      input('credits-refill-interval', 'Refill', 'Sets the balance back to the amount at 00:00 UTC.', {tag: 'select', options: [
        h('option', {value: '', text: 'none'}),
        h('option', {value: 'daily', text: 'daily'}),
        h('option', {value: 'monthly', text: 'monthly'})]}),
      input('credits-refill-amount', 'Refill amount', 'Credits after each refill.'),
      input('credits-refill-day', 'Refill day', 'Monthly: day 1 to 31 (a shorter month refills on its last day). Empty: 1.'));
  }

  // fillCredits puts a key's credits into the form, and enables the refill
  // inputs that its interval uses.
  function fillCredits(form, c) {
    const el = (n) => form.elements['credits-' + n];
    el('remaining').value = c ? String(c.remaining) : '';
    el('refill-interval').value = c && c.refill ? c.refill.interval : '';
    el('refill-amount').value = c && c.refill ? String(c.refill.amount) : '';
    el('refill-day').value = c && c.refill && c.refill.day ? String(c.refill.day) : '';
    syncRefill(form);
  }

  function syncRefill(form) {
    const interval = form.elements['credits-refill-interval'].value;
    form.elements['credits-refill-amount'].disabled = !interval;
    form.elements['credits-refill-day'].disabled = interval !== 'monthly';
  }

  // creditsBody reads the credits inputs as the API's credits: null
  // (unlimited) or {remaining, refill}. A number that is not one is
  // refused here, beside its field, as the API would.
  function creditsBody(form) {
    const el = (n) => form.elements['credits-' + n].value.trim();
    const details = {};
    const num = (field, s, required) => {
      if (/^-?\d{1,15}$/.test(s)) return Number(s);
      details['credits.' + field] = s ? 'must be a whole number' : required;
      return 0;
    };
    const interval = el('refill-interval');
    const rem = el('remaining');
    let out = null;
    if (interval) {
      const refill = {interval, amount: num('refill.amount', el('refill-amount'), 'is required with a refill')};
      if (interval === 'monthly') refill.day = el('refill-day') ? num('refill.day', el('refill-day')) : 1;
      out = {remaining: rem ? num('remaining', rem) : refill.amount, refill};
    } else if (rem) {
      out = {remaining: num('remaining', rem), refill: null};
    }
    if (Object.keys(details).length) throw new APIError(422, {error: 'validation failed', details});
    return out;
  }

  async function buildKeyForm(form, mode, rec) {
    const box = $('.fields', form);
    const prefix = mode + '-';
    let creds = [];
    try {
      creds = (await call('GET', '/credentials?limit=100')).data || [];
    } catch (e) {
      creds = [];
    }
    for (const f of keyFields) {
      if (f.only && f.only !== mode) continue;
      if (f.kind === 'credits') {
        box.append(creditsFieldset(prefix, mode));
        form.elements['credits-refill-interval'].addEventListener('change', () => syncRefill(form));
        fillCredits(form, rec ? rec.credits : null);
        continue;
      }
      const id = prefix + f.name;
      const described = (f.help ? id + '-help ' : '') + id + '-err';
      let input;
      if (f.kind === 'textarea') {
        input = h('textarea', {id, name: f.name, rows: '3', spellcheck: 'false', 'aria-describedby': described});
      } else if (f.kind === 'credential') {
        input = h('select', {id, name: f.name, 'aria-describedby': described},
          h('option', {value: '', text: 'none (default account)'}),
          ...creds.map((c) => h('option', {value: c.id, text: c.name + ' (' + c.login + ' @ ' + c.db + ')'})));
      } else {
        input = h('input', {id, name: f.name, spellcheck: 'false', required: f.required, 'aria-describedby': described});
      }
      if (rec) {
        const v = rec[f.name];
        input.value = v === null || v === undefined ? '' : Array.isArray(v) ? v.join(f.kind === 'textarea' ? '\n' : ', ') : String(v);
      }
      box.append(h('div', {class: 'field'},
        h('label', {for: id, text: f.label + (f.required ? ' (required)' : '')}), input,
        f.help ? h('small', {id: id + '-help', text: f.help}) : null,
        h('small', {class: 'field-error', id: id + '-err'})));
    }
  }

  // keyBody reads the form into the JSON the API takes.
  function keyBody(form, mode) {
    const body = {};
    for (const f of keyFields) {
      if (f.only && f.only !== mode) continue;
      if (f.kind === 'credits') {
        body.credits = creditsBody(form);
        continue;
      }
      const v = form.elements[f.name].value.trim();
      if (f.list) body[f.name] = split(v);
      else if (f.name === 'credential_id' || f.name === 'expires_at') body[f.name] = v || null;
      else if (f.name === 'ttl') { if (v) body.ttl = v; } else body[f.name] = v;
    }
    return body;
  }

  // showKeyOnce renders the plaintext of a new or rotated key, once.
  function showKeyOnce(slot, created) {
    const frag = document.getElementById('t-created').content.cloneNode(true);
    slot.replaceChildren(frag);
    const input = $('#new-key', slot);
    input.value = created.key;
    $('#open-key', slot).href = '#/keys/' + encodeURIComponent(created.id);
    $('#open-key', slot).textContent = 'Open ' + created.prefix + '…';
    $('#copy-key', slot).addEventListener('click', () => {
      const status = $('#copy-status', slot);
      const selectIt = () => {
        input.focus();
        input.select();
        status.textContent = 'Selected: press Ctrl+C (or ⌘C) to copy.';
      };
      if (!navigator.clipboard) return selectIt();
      navigator.clipboard.writeText(input.value).then(() => {
        status.textContent = 'Copied to the clipboard.';
      }, selectIt);
    });
    input.focus();
    input.select();
  }

  // ---- views -------------------------------------------------------------

  function viewLogin(message) {
    nav.hidden = true;
    view('t-login');
    const form = $('#login-form');
    if (message) $('#login-error').textContent = message;
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      const cred = $('#login-credential').value.trim();
      if (!cred) {
        $('#login-error').textContent = 'Enter an admin key or the admin token.';
        return;
      }
      try {
        await call('GET', '/keys?limit=1', undefined, cred);
      } catch (err) {
        $('#login-error').textContent = 'Sign-in refused: ' + err.message + '.';
        $('#login-credential').value = '';
        $('#login-credential').focus();
        return;
      }
      sessionStorage.setItem(CRED, cred);
      if (!location.hash || location.hash === '#/login') location.hash = '#/keys';
      else render();
    });
    $('#login-credential').focus();
  }

  async function viewKeys(params) {
    view('t-keys');
    const q = params.get('q') || '';
    const status = params.get('status') || '';
    const page = Math.max(1, parseInt(params.get('page') || '1', 10) || 1);
    const form = $('#keys-search');
    form.elements.q.value = q;
    form.elements.status.value = status;
    const go = (p) => {
      const next = new URLSearchParams();
      if (form.elements.q.value.trim()) next.set('q', form.elements.q.value.trim());
      if (form.elements.status.value) next.set('status', form.elements.status.value);
      if (p > 1) next.set('page', String(p));
      location.hash = '#/keys' + (next.toString() ? '?' + next : '');
    };
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      go(1);
    });
    const query = new URLSearchParams({page: String(page), limit: '20'});
    if (q) query.set('q', q);
    if (status) query.set('status', status);
    let ans;
    try {
      ans = await call('GET', '/keys?' + query);
    } catch (err) {
      return fail($('#keys-error'), err);
    }
    const tbody = $('#keys-table tbody');
    for (const k of ans.data) {
      const badge = h('span');
      statusBadge(badge, k.status);
      tbody.append(row(h('code', {text: k.prefix}), keyLink(k.id, k.name), k.owner || '—', list(k.scopes),
        list(k.rate_limits), creditsText(k.credits), badge, time(k.expires_at), time(k.last_used_at)));
    }
    if (!ans.data.length) emptyRow(tbody, 9, q || status ? 'No key matches.' : 'No keys yet.');
    const p = ans.pagination;
    $('#keys-caption').textContent = count(p.total, 'key') + (q || status ? ' found' : '');
    $('#keys-page').textContent = 'Page ' + p.page + ' of ' + Math.max(1, p.pages);
    $('#keys-prev').disabled = p.page <= 1;
    $('#keys-next').disabled = p.page >= p.pages;
    $('#keys-prev').addEventListener('click', () => go(p.page - 1));
    $('#keys-next').addEventListener('click', () => go(p.page + 1));
  }

  async function viewNewKey() {
    view('t-new-key');
    const form = $('#create-form');
    await buildKeyForm(form, 'create');
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      try {
        const created = await call('POST', '/keys', keyBody(form, 'create'));
        form.hidden = true;
        showKeyOnce($('#created'), created);
      } catch (err) {
        showErrors(form, err, 'create-');
      }
    });
  }

  async function viewKey(id) {
    view('t-key');
    let rec;
    try {
      rec = await call('GET', '/keys/' + encodeURIComponent(id));
    } catch (err) {
      return fail($('#key-error'), err);
    }
    showKeyFacts(rec);
    setupUsage(rec);
    // Revoking needs nothing of the edit form: it works as soon as the key
    // is shown, not once the form's choices have loaded.
    setupRevoke(rec);
    const edited = await setupEdit(rec);
    setupCredits(rec, edited);
    setupRotate(rec, edited);
    loadKeyAudit(rec);
  }

  function showKeyFacts(rec) {
    $('#key-title').textContent = rec.name;
    statusBadge($('#key-status'), rec.status);
    const facts = $('#key-facts');
    facts.replaceChildren();
    const add = (k, v) => facts.append(h('div', null, h('dt', {text: k}), h('dd', null, v)));
    add('Prefix', h('code', {text: rec.prefix}));
    add('Id', h('code', {text: rec.id}));
    add('Owner', rec.owner || '—');
    add('Scopes', list(rec.scopes));
    add('Rate limits', list(rec.rate_limits));
    add('Credits', h('span', {id: 'key-credits', text: creditsText(rec.credits)}));
    add('IP allowlist', list(rec.ip_allowlist));
    add('Expires', time(rec.expires_at));
    add('Last used', time(rec.last_used_at));
    add('Created', time(rec.created_at));
    if (rec.revoked_at) add('Revoked', time(rec.revoked_at));
  }

  // setupEdit builds the edit form and answers a function that the
  // credits panel calls with the key it changed, so that a later save
  // compares against (and shows) the new balance.
  async function setupEdit(rec) {
    const form = $('#edit-form');
    await buildKeyForm(form, 'edit', rec);
    const edited = (next) => {
      rec = next;
      showKeyFacts(rec);
      showCredits(rec);
      loadKeyAudit(rec);
    };
    if (rec.status === 'revoked') {
      for (const el of form.elements) el.disabled = true;
      $('.saved', form).textContent = 'A revoked key cannot be changed.';
      return edited;
    }
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      $('.saved', form).textContent = '';
      try {
        const changes = changed(rec, keyBody(form, 'edit'));
        if (!Object.keys(changes).length) {
          $('.saved', form).textContent = 'Nothing to save.';
          return;
        }
        edited(await call('PATCH', '/keys/' + encodeURIComponent(rec.id), changes));
        fillCredits(form, rec.credits);
        $('.saved', form).textContent = 'Saved.';
      } catch (err) {
        showErrors(form, err, 'edit-');
      }
    });
    return (next) => {
      edited(next);
      fillCredits(form, next.credits);
    };
  }

  // showCredits shows the balance in the credits panel, and whether it can
  // be changed there (a key without credits has no balance to change).
  function showCredits(rec) {
    $('#credits-balance').textContent = creditsText(rec.credits);
    const form = $('#credits-form');
    const usable = rec.status !== 'revoked' && !!rec.credits;
    for (const el of form.elements) el.disabled = !usable;
    $('#credits-note').textContent = rec.status === 'revoked' ? 'A revoked key cannot be changed.'
      : rec.credits ? '' : 'This key is unlimited: give it credits in Edit first.';
  }

  // setupCredits is the credits panel: set, increment or decrement the
  // balance atomically (POST /keys/{id}/credits), then show the new one.
  function setupCredits(rec, edited) {
    const form = $('#credits-form');
    showCredits(rec);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      $('.saved', form).textContent = '';
      const raw = form.elements.value.value.trim();
      try {
        if (!/^-?\d{1,15}$/.test(raw)) {
          throw new APIError(422, {error: 'validation failed', details: {value: raw ? 'must be a whole number' : 'is required'}});
        }
        const next = await call('POST', '/keys/' + encodeURIComponent(rec.id) + '/credits', {op: form.elements.op.value, value: Number(raw)});
        edited(next);
        form.elements.value.value = '';
        $('.saved', form).textContent = 'Balance now ' + next.credits.remaining + '.';
      } catch (err) {
        showErrors(form, err, 'credits-');
      }
    });
  }

  // changed keeps the fields of body that differ from the key: PATCH leaves
  // absent fields alone, so an edit never rewrites what it did not touch.
  function changed(rec, body) {
    const out = {};
    for (const [k, v] of Object.entries(body)) {
      const was = rec[k] === undefined ? null : rec[k];
      if (JSON.stringify(was) !== JSON.stringify(v)) out[k] = v;
    }
    return out;
  }

  function setupRotate(rec, edited) {
    const form = $('#rotate-form');
    if (rec.status !== 'active') {
      for (const el of form.elements) el.disabled = true;
      return;
    }
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      try {
        const created = await call('POST', '/keys/' + encodeURIComponent(rec.id) + '/rotate', {grace: form.elements.grace.value.trim()});
        form.hidden = true;
        showKeyOnce($('#created'), created);
        edited(await call('GET', '/keys/' + encodeURIComponent(rec.id)));
      } catch (err) {
        showErrors(form, err, 'rotate-');
      }
    });
  }

  function setupRevoke(rec) {
    const ask = $('#revoke-ask');
    const box = $('#revoke-confirm');
    if (rec.status === 'revoked') {
      ask.disabled = true;
      return;
    }
    $('#revoke-q').textContent = 'Revoke ' + rec.prefix + '… (' + rec.name + ')? Requests with it are refused from now on.';
    ask.addEventListener('click', () => {
      box.hidden = false;
      $('#revoke-no').focus();
    });
    $('#revoke-no').addEventListener('click', () => {
      box.hidden = true;
      ask.focus();
    });
    $('#revoke-yes').addEventListener('click', async () => {
      try {
        await call('POST', '/keys/' + encodeURIComponent(rec.id) + '/revoke');
      } catch (err) {
        return fail($('#revoke-error'), err);
      }
      await viewKey(rec.id);
    });
  }

  async function loadKeyAudit(rec) {
    // Filled once its answer is in, so that two loads never mix their rows.
    const tbody = h('tbody');
    try {
      const ans = await call('GET', '/audit?limit=20&key_id=' + encodeURIComponent(rec.id));
      for (const e of ans.data) tbody.append(row(time(e.at), e.actor, e.action));
      if (!ans.data.length) emptyRow(tbody, 3, 'No events.');
    } catch (err) {
      emptyRow(tbody, 3, err.message);
    }
    const table = $('#key-audit');
    if (table) table.tBodies[0].replaceWith(tbody);
  }

  // ---- usage chart -------------------------------------------------------

  function setupUsage(rec) {
    let span = 48;
    const buttons = $$('[data-span]', main);
    for (const b of buttons) {
      b.addEventListener('click', () => {
        span = Number(b.dataset.span);
        for (const o of buttons) o.setAttribute('aria-pressed', String(o === b));
        loadUsage(rec.id, span);
      });
    }
    $('#usage-refresh').addEventListener('click', () => loadUsage(rec.id, span));
    loadUsage(rec.id, span);
  }

  async function loadUsage(id, span) {
    $('#usage-error').textContent = '';
    let ans;
    try {
      ans = await call('GET', '/keys/' + encodeURIComponent(id) + '/usage?since=' + span + 'h');
    } catch (err) {
      return fail($('#usage-error'), err);
    }
    const start = Date.parse(ans.since) / 1000;
    const byHour = new Map(ans.hours.map((u) => [Date.parse(u.hour) / 1000, u]));
    const xs = [];
    const allowed = [];
    const denied = [];
    let sumA = 0;
    let sumD = 0;
    for (let i = 0; i <= span; i++) {
      const t = start + i * 3600;
      const u = byHour.get(t);
      xs.push(t);
      allowed.push(u ? u.allowed : 0);
      denied.push(u ? u.denied : 0);
      sumA += u ? u.allowed : 0;
      sumD += u ? u.denied : 0;
    }
    const label = span === 48 ? 'the last 48 hours' : 'the last 7 days';
    const summary = $('#usage-summary');
    summary.textContent = 'In ' + label + ': ' + sumA + ' allowed, ' + sumD + ' denied.';
    summary.dataset.allowed = String(sumA);
    summary.dataset.denied = String(sumD);
    const tbody = $('#usage-table tbody');
    tbody.replaceChildren();
    for (const u of ans.hours) tbody.append(row(time(u.hour), String(u.allowed), String(u.denied)));
    if (!ans.hours.length) emptyRow(tbody, 3, 'No traffic in ' + label + '.');
    drawChart($('#usage-chart'), [xs, allowed, denied]);
  }

  function drawChart(box, data) {
    box.replaceChildren();
    if (typeof window.uPlot !== 'function') {
      box.textContent = 'The chart library did not load.';
      return;
    }
    const width = Math.max(320, box.clientWidth || 800);
    const opts = {
      width,
      height: 260,
      tzDate: (ts) => window.uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      scales: {x: {time: true}, y: {range: (u, min, max) => [0, Math.max(4, Math.ceil(max * 1.1))]}},
      series: [
        {label: 'Hour (UTC)'},
        {label: 'Allowed', stroke: '#1b7f3b', fill: 'rgba(27,127,59,0.12)', width: 2, points: {show: false}},
        {label: 'Denied', stroke: '#b3261e', fill: 'rgba(179,38,30,0.10)', width: 2, points: {show: false}},
      ],
      axes: [{}, {label: 'requests per hour'}],
      legend: {live: false},
    };
    box.chart = new window.uPlot(opts, data, box);
  }

  // ---- overview, audit, service accounts ------------------------------------

  async function viewOverview(params) {
    view('t-overview');
    const since = params.get('since') === '168h' ? '168h' : '24h';
    for (const b of $$('[data-since]', main)) {
      b.setAttribute('aria-pressed', String(b.dataset.since === since));
      b.addEventListener('click', () => {
        location.hash = '#/overview?since=' + b.dataset.since;
      });
    }
    let ans;
    try {
      ans = await call('GET', '/usage?limit=10&since=' + since);
    } catch (err) {
      return fail($('#overview-error'), err);
    }
    const fill = (tbody, rows, first) => {
      for (const r of rows) {
        const counts = first === 'allowed' ? [String(r.allowed), String(r.denied)] : [String(r.denied), String(r.allowed)];
        tbody.append(row(keyLink(r.key_id, r.name + ' (' + r.prefix + ')'), r.owner || '—', ...counts));
      }
      if (!rows.length) emptyRow(tbody, 4, 'None in this period.');
    };
    fill($('#busiest tbody'), ans.busiest, 'allowed');
    fill($('#most-denied tbody'), ans.most_denied, 'denied');
  }

  async function viewAudit(params) {
    view('t-audit');
    const page = Math.max(1, parseInt(params.get('page') || '1', 10) || 1);
    const keyID = params.get('key_id') || '';
    const form = $('#audit-filter');
    form.elements.key_id.value = keyID;
    const go = (p) => {
      const next = new URLSearchParams();
      if (form.elements.key_id.value.trim()) next.set('key_id', form.elements.key_id.value.trim());
      if (p > 1) next.set('page', String(p));
      location.hash = '#/audit' + (next.toString() ? '?' + next : '');
    };
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      go(1);
    });
    const query = new URLSearchParams({page: String(page), limit: '50'});
    if (keyID) query.set('key_id', keyID);
    let ans;
    try {
      ans = await call('GET', '/audit?' + query);
    } catch (err) {
      return fail($('#audit-error'), err);
    }
    const tbody = $('#audit-table tbody');
    for (const e of ans.data) {
      const details = e.details && Object.keys(e.details).length ? JSON.stringify(e.details) : '—';
      tbody.append(row(time(e.at), e.actor, e.action, e.key_id ? keyLink(e.key_id) : '—', h('code', {text: details})));
    }
    if (!ans.data.length) emptyRow(tbody, 5, 'No events.');
    const p = ans.pagination;
    $('#audit-caption').textContent = count(p.total, 'event') + ', newest first';
    $('#audit-page').textContent = 'Page ' + p.page + ' of ' + Math.max(1, p.pages);
    $('#audit-prev').disabled = p.page <= 1;
    $('#audit-next').disabled = p.page >= p.pages;
    $('#audit-prev').addEventListener('click', () => go(p.page - 1));
    $('#audit-next').addEventListener('click', () => go(p.page + 1));
  }

  async function viewCredentials() {
    view('t-credentials');
    const form = $('#credential-form');
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      $('.saved', form).textContent = '';
      const body = {};
      for (const name of ['name', 'url', 'db', 'login', 'password']) body[name] = form.elements[name].value.trim();
      try {
        const cred = await call('POST', '/credentials', body);
        form.reset();
        $('.saved', form).textContent = 'Created ' + cred.name + '.';
        await loadCredentials();
      } catch (err) {
        form.elements.password.value = '';
        showErrors(form, err, 'cred-');
      }
    });
    await loadCredentials();
  }

  async function loadCredentials() {
    const tbody = $('#credentials-table tbody');
    tbody.replaceChildren();
    let ans;
    try {
      ans = await call('GET', '/credentials?limit=100');
    } catch (err) {
      return fail($('#credentials-error'), err);
    }
    for (const c of ans.data) tbody.append(row(c.name, c.url, c.db, c.login, h('code', {text: c.id}), time(c.created_at)));
    if (!ans.data.length) emptyRow(tbody, 6, 'No service accounts: keys act as the default account.');
    $('#credentials-caption').textContent = count(ans.pagination.total, 'service account');
  }

  // ---- routing -----------------------------------------------------------

  const routes = [
    [/^\/keys\/new$/, () => viewNewKey(), 'keys'],
    [/^\/keys\/([^/]+)$/, (m) => viewKey(decodeURIComponent(m[1])), 'keys'],
    [/^\/keys$/, (m, params) => viewKeys(params), 'keys'],
    [/^\/overview$/, (m, params) => viewOverview(params), 'overview'],
    [/^\/audit$/, (m, params) => viewAudit(params), 'audit'],
    [/^\/credentials$/, () => viewCredentials(), 'credentials'],
  ];

  function render() {
    if (!credential()) return viewLogin();
    nav.hidden = false;
    const hash = location.hash.replace(/^#/, '') || '/keys';
    const [path, query] = hash.split('?');
    const params = new URLSearchParams(query || '');
    for (const [re, fn, section] of routes) {
      const m = path.match(re);
      if (!m) continue;
      for (const a of $$('a[data-section]', nav)) {
        if (a.dataset.section === section) a.setAttribute('aria-current', 'page');
        else a.removeAttribute('aria-current');
      }
      fn(m, params);
      return;
    }
    location.hash = '#/keys';
  }

  function signOut(message) {
    sessionStorage.removeItem(CRED);
    viewLogin(message);
  }

  $('.skip').addEventListener('click', (ev) => {
    ev.preventDefault();
    main.focus();
  });
  document.getElementById('sign-out').addEventListener('click', () => signOut('Signed out.'));
  window.addEventListener('hashchange', render);
  render();
})();
