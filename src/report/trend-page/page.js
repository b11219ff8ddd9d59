// The trend page: line charts of a `kubectl profefe trend` (services, then the top functions),
// drawn as SVG by this script alone, from the JSON in #trend-data. Every name from the profiles
// is put in the page as text (textContent), never as HTML. The page makes no network request.
(function () {
  'use strict';
  var started = performance.now();
  var SVG = 'http://www.w3.org/2000/svg';
  // Tableau 10: distinct for the default 10 functions; beyond 10 the colours repeat with dashes.
  var COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
  var DASHES = ['', '6 3', '2 3', '8 3 2 3'];
  var HEIGHT = 300;
  var MARGIN = { top: 10, right: 16, bottom: 28, left: 64 };

  var data = JSON.parse(document.getElementById('trend-data').textContent);
  var trend = data.trend;
  var times = trend.buckets.map(function (b) { return Date.parse(b); });
  var stepMs = trend.stepSeconds * 1000;
  var logScale = false;

  function el(name, attrs, parent) {
    var e = document.createElementNS(SVG, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function html(name, text, parent, cls) {
    var e = document.createElement(name);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    if (parent) parent.appendChild(e);
    return e;
  }

  // A value in the trend's unit for people: cores with 3 significant digits, else pprof's labels.
  function formatValue(v) {
    if (v === null || v === undefined) return 'no profiles';
    if (trend.unit === 'cores') return (v >= 100 ? v.toFixed(0) : String(Number(v.toPrecision(3)))) + ' cores';
    return pprofFormat.scaledLabel(Math.round(v), trend.unit, 'minimum');
  }

  function unitText() {
    if (trend.unit === 'cores') return 'Unit: cores (CPU seconds per second of the bucket)';
    if (trend.unit === 'bytes') return 'Unit: bytes';
    if (trend.unit === 'count') return 'Unit: count';
    return 'Unit: ' + trend.unit;
  }

  function pad2(n) { return n < 10 ? '0' + n : String(n); }
  // Times in UTC, as the CLI prints them.
  function formatTime(ms, withDate) {
    var d = new Date(ms);
    var day = d.getUTCFullYear() + '-' + pad2(d.getUTCMonth() + 1) + '-' + pad2(d.getUTCDate());
    var hm = pad2(d.getUTCHours()) + ':' + pad2(d.getUTCMinutes());
    return withDate ? day + ' ' + hm + ' UTC' : stepMs >= 86400000 ? day : hm;
  }

  // Bytes are labelled in pprof's binary units (1MB = 2^20 B): their ticks are round in those units.
  var BINARY = trend.unit === 'bytes';

  // Round tick values from lo (or below) to hi (or above), linear, about `count` of them.
  function linearTicks(lo, hi, count) {
    var scale = 1;
    if (BINARY) {
      var big = Math.max(Math.abs(lo), Math.abs(hi));
      if (big >= 1024) scale = Math.pow(1024, Math.floor(Math.log(big) / Math.log(1024)));
    }
    var l = lo / scale;
    var h = hi / scale;
    var raw = (h - l) / count;
    var mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 2.5, 5, 10].map(function (m) { return m * mag; }).find(function (s) { return s >= raw; });
    var ticks = [];
    for (var v = Math.floor(l / step + 1e-9) * step; v < h + step - step * 1e-9; v += step) ticks.push((Math.abs(v) < step * 1e-9 ? 0 : v) * scale);
    return ticks;
  }

  // Powers of 10 (1, 2, 5 between), or of 2 for bytes, within [lo, hi]: about 8 at most.
  function logTicks(lo, hi) {
    var ticks = [];
    if (BINARY) {
      var e0 = Math.ceil(Math.log2(lo));
      var e1 = Math.floor(Math.log2(hi));
      var every = Math.max(1, Math.ceil((e1 - e0 + 1) / 8));
      for (var e = e0; e <= e1; e++) if ((e - e0) % every === 0) ticks.push(Math.pow(2, e));
      return ticks;
    }
    for (var d = Math.floor(Math.log10(lo)); d <= Math.ceil(Math.log10(hi)); d++) {
      [1, 2, 5].forEach(function (m) {
        var v = m * Math.pow(10, d);
        if (v >= lo && v <= hi) ticks.push(v);
      });
    }
    return ticks;
  }

  function Chart(section, series) {
    this.section = section;
    this.plot = section.querySelector('.plot');
    this.legend = section.querySelector('.legend');
    this.series = series.map(function (s, i) {
      return { name: s.name, values: s.values, colour: COLOURS[i % COLOURS.length], dash: DASHES[Math.floor(i / COLOURS.length) % DASHES.length], on: true };
    });
    this.buildLegend();
    this.draw();
  }

  Chart.prototype.buildLegend = function () {
    var chart = this;
    this.series.forEach(function (s) {
      var li = html('li', undefined, chart.legend);
      li.title = s.name;
      var sw = html('span', undefined, li, 'swatch');
      sw.style.background = s.colour;
      html('span', s.name, li, 'name');
      var last = null;
      for (var i = s.values.length - 1; i >= 0 && last === null; i--) last = s.values[i];
      html('span', formatValue(last), li, 'last');
      li.addEventListener('click', function () {
        s.on = !s.on;
        li.classList.toggle('off', !s.on);
        chart.draw();
      });
    });
  };

  Chart.prototype.draw = function () {
    var chart = this;
    this.plot.textContent = '';
    var width = Math.max(320, this.plot.clientWidth);
    var svg = el('svg', { width: width, height: HEIGHT, viewBox: '0 0 ' + width + ' ' + HEIGHT, role: 'img' }, this.plot);
    var w = width - MARGIN.left - MARGIN.right;
    var h = HEIGHT - MARGIN.top - MARGIN.bottom;
    var shown = this.series.filter(function (s) { return s.on; });
    var all = [];
    shown.forEach(function (s) { s.values.forEach(function (v) { if (v !== null && (!logScale || v > 0)) all.push(v); }); });
    var x0 = times[0];
    var x1 = times.length > 1 ? times[times.length - 1] : x0 + stepMs;
    var x = function (t) { return MARGIN.left + (x1 === x0 ? w / 2 : ((t - x0) / (x1 - x0)) * w); };
    var y;
    var ticks;
    if (all.length === 0) {
      el('text', { x: MARGIN.left + w / 2, y: MARGIN.top + h / 2, 'text-anchor': 'middle', class: 'empty' }, svg).textContent = logScale ? 'No positive values to draw on a log scale' : 'No values';
      y = function () { return MARGIN.top + h; };
      ticks = [];
    } else if (logScale) {
      var lo = Math.min.apply(null, all);
      var hi = Math.max.apply(null, all);
      // From the power (of 2 for bytes, else of 10) at or below the lowest value to the one at or above the highest.
      var base = BINARY ? 2 : 10;
      lo = Math.pow(base, Math.floor(Math.log(lo) / Math.log(base) + 1e-9));
      hi = Math.pow(base, Math.ceil(Math.log(hi) / Math.log(base) - 1e-9));
      if (hi === lo) hi = lo * base;
      var l0 = Math.log10(lo);
      var l1 = Math.log10(hi);
      y = function (v) { return MARGIN.top + h - ((Math.log10(v) - l0) / (l1 - l0)) * h; };
      ticks = logTicks(lo, hi);
    } else {
      var max = Math.max(0, Math.max.apply(null, all));
      var min = Math.min(0, Math.min.apply(null, all));
      ticks = linearTicks(min, max === min ? min + 1 : max, 5);
      var bottom = Math.min(min, ticks[0]);
      var top = Math.max(max, ticks[ticks.length - 1]);
      y = function (v) { return MARGIN.top + h - ((v - bottom) / (top - bottom || 1)) * h; };
    }
    var grid = el('g', { class: 'grid' }, svg);
    var axis = el('g', { class: 'axis' }, svg);
    ticks.forEach(function (v) {
      el('line', { x1: MARGIN.left, x2: MARGIN.left + w, y1: y(v), y2: y(v) }, grid);
      el('text', { x: MARGIN.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, axis).textContent = formatValue(v).replace(/ cores$/, '');
    });
    var every = Math.max(1, Math.ceil(times.length / Math.max(2, Math.floor(w / 90))));
    times.forEach(function (t, i) {
      if (i % every !== 0) return;
      el('line', { x1: x(t), x2: x(t), y1: MARGIN.top + h, y2: MARGIN.top + h + 4, stroke: '#8c959f' }, axis);
      el('text', { x: x(t), y: MARGIN.top + h + 18, 'text-anchor': 'middle' }, axis).textContent = formatTime(t, false);
    });
    el('line', { x1: MARGIN.left, x2: MARGIN.left + w, y1: MARGIN.top + h, y2: MARGIN.top + h, stroke: '#8c959f' }, axis);
    var lines = el('g', { class: 'series' }, svg);
    shown.forEach(function (s) {
      // A bucket without profiles (null), or 0 on a log scale, breaks the line.
      var d = '';
      var pen = false;
      s.values.forEach(function (v, i) {
        if (v === null || (logScale && !(v > 0))) { pen = false; return; }
        d += (pen ? 'L' : 'M') + x(times[i]).toFixed(1) + ',' + y(v).toFixed(1);
        pen = true;
      });
      var path = el('path', { d: d, stroke: s.colour }, lines);
      if (s.dash) path.setAttribute('stroke-dasharray', s.dash);
      s.values.forEach(function (v, i) {
        var alone = v !== null && (i === 0 || s.values[i - 1] === null) && (i === s.values.length - 1 || s.values[i + 1] === null);
        if (alone && !(logScale && !(v > 0))) el('circle', { cx: x(times[i]), cy: y(v), r: 2.5, fill: s.colour }, lines);
      });
    });
    var cursor = el('line', { class: 'cursor', y1: MARGIN.top, y2: MARGIN.top + h, visibility: 'hidden' }, svg);
    var dots = el('g', {}, svg);
    var overlay = el('rect', { x: MARGIN.left, y: MARGIN.top, width: w, height: h, fill: 'transparent', class: 'overlay' }, svg);
    var tooltip = document.getElementById('tooltip');
    overlay.addEventListener('mousemove', function (ev) {
      var box = svg.getBoundingClientRect();
      var px = ((ev.clientX - box.left) / box.width) * width;
      var i = times.length === 1 ? 0 : Math.round(((px - MARGIN.left) / w) * (times.length - 1));
      i = Math.max(0, Math.min(times.length - 1, i));
      chart.hover(i, x, y, cursor, dots, tooltip, ev);
    });
    overlay.addEventListener('mouseleave', function () {
      cursor.setAttribute('visibility', 'hidden');
      dots.textContent = '';
      tooltip.hidden = true;
    });
  };

  Chart.prototype.hover = function (i, x, y, cursor, dots, tooltip, ev) {
    cursor.setAttribute('x1', x(times[i]));
    cursor.setAttribute('x2', x(times[i]));
    cursor.setAttribute('visibility', 'visible');
    dots.textContent = '';
    tooltip.textContent = '';
    var end = i + 1 < times.length ? times[i + 1] : Date.parse(trend.to);
    html('div', formatTime(times[i], true) + ' to ' + formatTime(end, true), tooltip, 'time');
    var table = html('table', undefined, tooltip);
    var rows = this.series.filter(function (s) { return s.on; }).slice().sort(function (a, b) { return (b.values[i] === null ? -Infinity : b.values[i]) - (a.values[i] === null ? -Infinity : a.values[i]); });
    rows.forEach(function (s) {
      var v = s.values[i];
      if (v !== null && !(logScale && !(v > 0))) el('circle', { cx: x(times[i]), cy: y(v), r: 3.5, fill: s.colour }, dots);
      var tr = html('tr', undefined, table);
      var sw = html('span', undefined, html('td', undefined, tr), 'swatch');
      sw.style.background = s.colour;
      html('td', s.name, tr, 'name');
      html('td', formatValue(v), tr, 'value');
    });
    tooltip.hidden = false;
    var left = ev.clientX + 16;
    if (left + tooltip.offsetWidth > window.innerWidth - 8) left = ev.clientX - 16 - tooltip.offsetWidth;
    tooltip.style.left = Math.max(8, left) + 'px';
    tooltip.style.top = Math.max(8, Math.min(ev.clientY + 12, window.innerHeight - tooltip.offsetHeight - 8)) + 'px';
  };

  document.getElementById('title').textContent = data.meta.title;
  var meta = document.getElementById('meta');
  data.meta.fields.forEach(function (f) {
    var div = html('div', undefined, meta);
    html('dt', f[0], div);
    html('dd', f[1], div);
  });
  document.getElementById('unit').textContent = unitText();
  var fnHeading = document.getElementById('functions-heading');
  fnHeading.textContent = (trend.functions.length === 0 ? 'No functions' : 'Top ' + trend.functions.length + ' functions') + ' (flat, summed over the services)';
  var charts = [
    new Chart(document.getElementById('services'), trend.services.map(function (s) { return { name: s.service, values: s.values }; })),
    new Chart(document.getElementById('functions'), trend.functions.map(function (f) { return { name: f['function'], values: f.values }; })),
  ];
  document.getElementById('log-scale').addEventListener('change', function (ev) {
    logScale = ev.target.checked;
    charts.forEach(function (c) { c.draw(); });
  });
  var resizing = 0;
  window.addEventListener('resize', function () {
    cancelAnimationFrame(resizing);
    resizing = requestAnimationFrame(function () { charts.forEach(function (c) { c.draw(); }); });
  });
  window.kubectlProfefe = { renderMs: performance.now() - started, charts: charts.length };
  document.body.dataset.ready = 'true';
})();
