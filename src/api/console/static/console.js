// Causeway console: the only script of the console (CSP script-src 'self'). Live regions and small helpers.
(function () {
  'use strict';
  var POLL_MS = Number(document.documentElement.getAttribute('data-poll-ms')) || 2000;

  function poll(region) {
    var src = region.getAttribute('data-live');
    var version = region.getAttribute('data-live-version') || '';
    var url = src + (src.indexOf('?') < 0 ? '?' : '&') + 'v=' + encodeURIComponent(version);
    return fetch(url, { headers: { 'x-console-live': '1' }, credentials: 'same-origin', cache: 'no-store' })
      .then(function (res) {
        if (res.status === 401) {
          window.location.assign('/console/sign-in');
          return;
        }
        if (res.status !== 200) return;
        var next = res.headers.get('x-live-version') || '';
        return res.text().then(function (html) {
          region.innerHTML = html;
          region.setAttribute('data-live-version', next);
          region.dispatchEvent(new CustomEvent('console:updated', { bubbles: true }));
        });
      })
      .catch(function () {
        /* offline for a moment: the next tick retries */
      });
  }

  function start() {
    var regions = Array.prototype.slice.call(document.querySelectorAll('[data-live]'));
    if (regions.length === 0) return;
    var busy = false;
    setInterval(function () {
      if (busy || document.hidden) return;
      busy = true;
      Promise.all(regions.map(poll)).then(function () {
        busy = false;
      });
    }, POLL_MS);
  }

  // Wait times keep counting between updates: <td data-since="ISO">, the same format as the server's.
  function waited(since) {
    var s = Math.max(0, Math.round((Date.now() - Date.parse(since)) / 1000));
    if (s < 60) return s + ' s';
    var m = Math.floor(s / 60);
    if (m < 60) return m + ' min';
    var h = Math.floor(m / 60);
    if (h < 24) return h + ' h ' + (m % 60) + ' min';
    return Math.floor(h / 24) + ' d ' + (h % 24) + ' h';
  }
  // Desk SLA (issue 20 C): <td data-due="ISO"> reads "5 min left" or "overdue 2 min", as the server renders it.
  function slaLeft(due) {
    var ms = Date.parse(due) - Date.now();
    return ms >= 0 ? waited(new Date(Date.now() - ms).toISOString()) + ' left' : 'overdue ' + waited(due);
  }
  setInterval(function () {
    var cells = document.querySelectorAll('[data-since]');
    for (var i = 0; i < cells.length; i++) cells[i].textContent = waited(cells[i].getAttribute('data-since'));
    var dues = document.querySelectorAll('[data-due]');
    for (var j = 0; j < dues.length; j++) {
      var due = dues[j].getAttribute('data-due');
      dues[j].textContent = slaLeft(due);
      dues[j].className = Date.parse(due) < Date.now() ? 'sla overdue' : 'sla';
    }
  }, 5000);

  // Forms that ask before acting: <form data-confirm="Resolve this conversation?">
  document.addEventListener('submit', function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) event.preventDefault();
  });

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
