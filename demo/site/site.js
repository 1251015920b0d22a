/* Brightdesk demo site: per-visitor layout profile plus small UI widgets.
 * The profile (A/B variant, cookie banner, promo, image delay) makes layouts
 * differ between visitors the way real sites do, for heatmap/replay tests. */
(function () {
  'use strict';

  var KEY = 'demo_profile';
  var CHOICES = {
    variant: ['A', 'B'],
    banner: ['none', 'short', 'medium', 'tall'],
    promo: ['0', '1'],
    imgdelay: ['0', '300', '800', '1500']
  };

  function pick(list) { return list[Math.floor(Math.random() * list.length)]; }

  function clean(name, value) {
    if (value == null) return null;
    value = String(value).trim();
    if (name === 'variant') value = value.toUpperCase();
    if (name === 'banner') value = value.toLowerCase();
    if (name === 'imgdelay') {
      var ms = parseInt(value, 10);
      return isNaN(ms) ? null : String(Math.max(0, Math.min(ms, 5000)));
    }
    return CHOICES[name].indexOf(value) >= 0 ? value : null;
  }

  /* Stored profile, overridden by query params, missing values drawn at random. */
  function loadProfile() {
    var stored = {};
    try { stored = JSON.parse(localStorage.getItem(KEY)) || {}; } catch (e) { stored = {}; }
    var query = new URLSearchParams(location.search);
    var profile = { consent: stored.consent === true };
    Object.keys(CHOICES).forEach(function (name) {
      var fromQuery = clean(name, query.get(name));
      profile[name] = fromQuery || clean(name, stored[name]) || pick(CHOICES[name]);
      if (name === 'banner' && fromQuery) profile.consent = false; // explicit banner: show it again
    });
    saveProfile(profile);
    return profile;
  }

  function saveProfile(profile) {
    try { localStorage.setItem(KEY, JSON.stringify(profile)); } catch (e) { /* private mode */ }
  }

  var BANNER_TEXT = {
    short: '<p>We use cookies to improve your experience.</p>',
    medium: '<p>We use cookies to understand how you use Brightdesk and to improve your experience.</p>' +
      '<p>By clicking Accept you agree to our use of analytics and functional cookies.</p>',
    tall: '<p><strong>Your privacy matters.</strong> We and our partners use cookies and similar ' +
      'technologies to run this site, remember your preferences, measure traffic and show relevant offers.</p>' +
      '<ul><li>Strictly necessary: sign-in, security, load balancing.</li>' +
      '<li>Analytics: anonymous page views and feature usage.</li>' +
      '<li>Marketing: measuring campaigns such as seasonal promotions.</li></ul>' +
      '<p>You can change your choice at any time from the footer of any page.</p>'
  };

  function applyBanner(profile) {
    if (profile.banner === 'none' || profile.consent || !document.querySelector('.site-header')) return;
    var banner = document.createElement('div');
    banner.className = 'cookie-banner';
    banner.setAttribute('role', 'region');
    banner.setAttribute('aria-label', 'Cookie consent');
    banner.innerHTML = '<div class="container"><div class="cookie-text">' + BANNER_TEXT[profile.banner] +
      '</div><button type="button" class="btn btn-primary" data-demo-id="banner-accept">Accept</button></div>';
    banner.querySelector('button').addEventListener('click', function () {
      banner.remove();
      profile.consent = true;
      saveProfile(profile);
    });
    document.body.insertBefore(banner, document.body.firstChild);
  }

  function applyLayout(profile) {
    var cta = document.getElementById('cta-main');
    var slotB = document.getElementById('cta-slot-b');
    if (profile.variant === 'B' && cta && slotB) slotB.insertBefore(cta, slotB.firstChild);
    var promo = document.getElementById('promo');
    if (promo) {
      if (profile.promo === '1') promo.hidden = false;
      else promo.remove();
    }
    // Framework-style ids that change on every load, like Ember's "ember123".
    document.querySelectorAll('.ember-view').forEach(function (el) {
      el.id = 'ember' + (100 + Math.floor(Math.random() * 9900));
    });
  }

  /* Lazy images: src set only after the load event, so they shift content late. */
  function loadImages(profile) {
    document.querySelectorAll('img.lazy[data-src]').forEach(function (img, i) {
      setTimeout(function () {
        img.addEventListener('load', function () { img.classList.add('loaded'); }, { once: true });
        img.src = img.getAttribute('data-src') + '?delay=' + profile.imgdelay;
      }, 50 + i * 40);
    });
  }

  function initNav() {
    var open = document.querySelector('.menu-btn');
    var close = document.querySelector('.nav-close');
    var backdrop = document.querySelector('.nav-backdrop');
    var path = location.pathname.split('/').pop() || 'index.html';
    document.querySelectorAll('.site-nav a').forEach(function (a) {
      if (a.getAttribute('href') === path) a.setAttribute('aria-current', 'page');
    });
    if (!open) return;
    function setOpen(on) {
      document.body.classList.toggle('nav-open', on);
      open.setAttribute('aria-expanded', String(on));
      if (backdrop) backdrop.hidden = !on;
    }
    open.addEventListener('click', function () { setOpen(true); });
    if (close) close.addEventListener('click', function () { setOpen(false); });
    if (backdrop) backdrop.addEventListener('click', function () { setOpen(false); });
    document.addEventListener('keydown', function (e) { if (e.key === 'Escape') setOpen(false); });
    window.addEventListener('pageshow', function () { setOpen(false); }); // back/forward cache
  }

  function initModal() {
    var dialog = document.getElementById('demo-modal');
    var opener = document.querySelector('[data-opens="demo-modal"]');
    if (!dialog || !opener) return;
    opener.addEventListener('click', function () { dialog.showModal(); });
    dialog.querySelector('.modal-close').addEventListener('click', function () { dialog.close(); });
    dialog.addEventListener('click', function (e) { if (e.target === dialog) dialog.close(); });
  }

  function initPromo() {
    var button = document.querySelector('#promo .btn');
    if (!button) return;
    button.addEventListener('click', function () {
      document.querySelector('#promo .promo-code').hidden = false;
      button.textContent = 'Code revealed';
    });
  }

  /* Product tabs: ?tab=NAME in the URL, pushState on click, popstate on back. */
  function initTabs() {
    var tabs = Array.prototype.slice.call(document.querySelectorAll('[role="tab"]'));
    if (!tabs.length) return;
    var names = tabs.map(function (t) { return t.getAttribute('data-tab'); });
    function fromUrl() {
      var name = new URLSearchParams(location.search).get('tab');
      return names.indexOf(name) >= 0 ? name : names[0];
    }
    function show(name) {
      tabs.forEach(function (tab) {
        var on = tab.getAttribute('data-tab') === name;
        tab.setAttribute('aria-selected', String(on));
        tab.tabIndex = on ? 0 : -1;
        document.getElementById(tab.getAttribute('aria-controls')).hidden = !on;
      });
    }
    tabs.forEach(function (tab, i) {
      tab.addEventListener('click', function () {
        var name = tab.getAttribute('data-tab');
        if (name === fromUrl()) return;
        history.pushState({ tab: name }, '', location.pathname + '?tab=' + name);
        show(name);
      });
      tab.addEventListener('keydown', function (e) {
        var step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
        if (!step) return;
        var next = tabs[(i + step + tabs.length) % tabs.length];
        next.focus();
        next.click();
      });
    });
    window.addEventListener('popstate', function () { show(fromUrl()); });
    show(fromUrl());
  }

  function initPricing() {
    var buttons = document.querySelectorAll('[data-billing]');
    buttons.forEach(function (button) {
      button.addEventListener('click', function () {
        var period = button.getAttribute('data-billing');
        buttons.forEach(function (b) { b.setAttribute('aria-pressed', String(b === button)); });
        document.querySelectorAll('.amount').forEach(function (el) {
          el.textContent = el.getAttribute('data-' + period);
        });
      });
    });
  }

  function initSignup() {
    var form = document.getElementById('signup-form');
    if (!form) return;
    var plan = new URLSearchParams(location.search).get('plan');
    var chip = document.getElementById('plan-chip');
    if (plan && /^(starter|pro|enterprise)$/.test(plan)) {
      form.elements.plan.value = plan;
      chip.querySelector('strong').textContent = plan.charAt(0).toUpperCase() + plan.slice(1);
      chip.hidden = false;
    }
    function check(input, ok, message) {
      input.setAttribute('aria-invalid', String(!ok));
      document.getElementById(input.id + '-error').textContent = ok ? '' : message;
      return ok;
    }
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var email = form.elements.email, password = form.elements.password;
      var ok = check(email, /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email.value), 'Please enter a valid work email.');
      ok = check(password, password.value.length >= 8, 'Password must be at least 8 characters.') && ok;
      if (!ok) return;
      var submit = form.querySelector('[type="submit"]');
      submit.disabled = true;
      submit.textContent = 'Creating account…';
      setTimeout(function () {
        form.hidden = true;
        var thanks = document.getElementById('signup-thanks');
        thanks.hidden = false;
        thanks.focus();
        var api = window.sessionheat; // the demo's goal: `converted` is reaching this event
        if (api && typeof api.event === 'function') api.event('signup', { plan: form.elements.plan.value });
      }, 300);
    });
  }

  /* Tell the recorder (if it injected its API) which layout this visitor got. */
  var told = false;
  function tellRecorder(profile) {
    var api = window.sessionheat;
    if (told || !api || typeof api.set !== 'function') return;
    told = true;
    api.set({ variant: profile.variant, banner: profile.banner, promo: profile.promo });
  }

  var profile = loadProfile();
  window.demoProfile = profile; // ground truth for benchmarks only
  applyBanner(profile);
  applyLayout(profile);
  initNav();
  initModal();
  initPromo();
  initTabs();
  initPricing();
  initSignup();
  tellRecorder(profile);
  window.addEventListener('load', function () {
    tellRecorder(profile);
    loadImages(profile);
  });
})();
