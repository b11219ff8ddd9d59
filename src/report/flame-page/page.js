// The flame graph page of `kubectl profefe open` and `diff --html`. Reads the call tree and top
// tables that src/report/flame-page.ts embedded as JSON, and draws them with d3-flame-graph (inlined
// before this script, as the globals `d3` and `flamegraph`). Makes no network requests.
// In diff mode (data.mode === 'diff') each frame carries its base and target values.
(function () {
  'use strict';

  // --- Numbers: pprof's formatting (go-format.js, inlined before this script) of exact int64
  // values: numbers, and BigInts for values beyond 2^53 (the JSON holds those as digit strings).
  var scaledLabel = pprofFormat.scaledLabel;
  var MAX_SAFE = Number.MAX_SAFE_INTEGER;

  function exact(v) {
    return typeof v === 'string' ? BigInt(v) : v;
  }
  // Canonical: a BigInt only when a number cannot hold the value.
  function canonical(b) {
    return b >= -MAX_SAFE && b <= MAX_SAFE ? Number(b) : b;
  }
  // Go's int64 arithmetic (wraps around).
  function add(a, b) {
    if (typeof a === 'number' && typeof b === 'number') {
      var r = a + b;
      if (r <= MAX_SAFE && r >= -MAX_SAFE) return r;
    }
    return canonical(BigInt.asIntN(64, BigInt(a) + BigInt(b)));
  }
  function sub(a, b) {
    return add(a, typeof b === 'bigint' ? canonical(BigInt.asIntN(64, -b)) : 0 - b);
  }
  function abs(v) {
    return typeof v === 'bigint' ? (v < 0 ? canonical(BigInt.asIntN(64, -v)) : v) : Math.abs(v);
  }
  function toFloat(v) {
    return typeof v === 'bigint' ? Number(v) : v;
  }

  // `part` as a percentage of `total`, as pprof prints it (trimmed, as in its legends).
  function formatPercent(part, total) {
    return pprofFormat.percentage(part, total).trim();
  }

  var data = JSON.parse(document.getElementById('profile-data').textContent);
  data.tree.self = data.tree.self.map(function (col) { return col.map(exact); });
  if (data.tree.baseSelf) data.tree.baseSelf = data.tree.baseSelf.map(function (col) { return col.map(exact); });
  data.top.forEach(function (top) {
    top.total = exact(top.total);
    top.rows.forEach(function (r) {
      r[1] = exact(r[1]);
      r[2] = exact(r[2]);
    });
  });
  var diffMode = data.mode === 'diff';
  var names = data.names;
  var nodeCount = data.tree.name.length;

  // Parents from depths: in preorder, a node's parent is the last node seen one level up.
  var parentOf = new Int32Array(nodeCount);
  (function () {
    var lastAtDepth = [];
    for (var i = 0; i < nodeCount; i++) {
      var d = data.tree.depth[i];
      parentOf[i] = d === 0 ? -1 : lastAtDepth[d - 1];
      lastAtDepth[d] = i;
    }
  })();

  var state = { type: data.defaultSampleIndex, sort: { column: 'flat', descending: true }, showAll: false };

  // Per node, the exact totals of a column of self values (a node's self plus its descendants'):
  // in doubles when every value is a number and the magnitudes sum below 2^53 (then each sum is
  // exact), else in BigInt with int64 wrap-around, as pprof sums.
  function totalsOf(self) {
    var bound = 0;
    var fits = true;
    for (var k = 0; k < nodeCount && fits; k++) {
      if (typeof self[k] !== 'number') fits = false;
      else bound += Math.abs(self[k]);
    }
    if (fits && bound <= MAX_SAFE) {
      var fast = Float64Array.from(self);
      for (var i = nodeCount - 1; i > 0; i--) fast[parentOf[i]] += fast[i];
      return Array.from(fast);
    }
    var big = self.map(function (v) { return BigInt(v); });
    for (var j = nodeCount - 1; j > 0; j--) big[parentOf[j]] = BigInt.asIntN(64, big[parentOf[j]] + big[j]);
    return big.map(canonical);
  }

  // The d3-flame-graph tree of one sample type. Built afresh on every switch (it takes
  // milliseconds) because the chart marks zoom state on these objects. Frames without value for
  // that type are left out: a heap profile's in-use tree is much smaller than its allocation tree.
  // `v` is a frame's width (a double), `x` its exact total and `s` its exact self value.
  function hierarchy(t) {
    if (diffMode) return diffHierarchy(t);
    var self = data.tree.self[t];
    var total = totalsOf(self);
    var objects = new Array(nodeCount);
    for (var j = 0; j < nodeCount; j++) {
      if (!(total[j] > 0)) continue;
      var node = { n: names[data.tree.name[j]], v: toFloat(total[j]), x: total[j], s: self[j] };
      objects[j] = node;
      var p = parentOf[j];
      if (p >= 0 && objects[p]) (objects[p].c || (objects[p].c = [])).push(node);
    }
    return objects[0] || { n: names[0], v: 0, x: 0, s: 0 };
  }

  // The diff's tree: `b` and `t` are a frame's exact base and target totals, `d` its self delta
  // (the chart's computeDelta sums it into the frame's `delta`). A frame is as wide as the larger
  // of its two sides, summed from the self values up so that children always fit in their
  // parent: code that is gone still shows, as wide as it was in the base.
  function diffHierarchy(t) {
    var targetSelf = data.tree.self[t];
    var baseSelf = data.tree.baseSelf[t];
    var target = totalsOf(targetSelf);
    var base = totalsOf(baseSelf);
    var width = new Float64Array(nodeCount);
    for (var k = 0; k < nodeCount; k++) width[k] = Math.max(Math.abs(toFloat(targetSelf[k])), Math.abs(toFloat(baseSelf[k])));
    for (var i = nodeCount - 1; i > 0; i--) width[parentOf[i]] += width[i];
    var objects = new Array(nodeCount);
    for (var j = 0; j < nodeCount; j++) {
      if (!(width[j] > 0)) continue;
      var node = { n: names[data.tree.name[j]], v: width[j], d: toFloat(sub(targetSelf[j], baseSelf[j])), b: base[j], t: target[j] };
      objects[j] = node;
      var p = parentOf[j];
      if (p >= 0 && objects[p]) (objects[p].c || (objects[p].c = [])).push(node);
    }
    return objects[0] || { n: names[0], v: 0, d: 0, b: 0, t: 0 };
  }

  // The base's and target's totals of a sample type: the root's two sides.
  var sideTotalsOf = [];
  function sideTotals(t) {
    if (sideTotalsOf[t]) return sideTotalsOf[t];
    var base = 0;
    var target = 0;
    for (var i = 0; i < nodeCount; i++) {
      base = add(base, data.tree.baseSelf[t][i]);
      target = add(target, data.tree.self[t][i]);
    }
    return (sideTotalsOf[t] = { base: base, target: target });
  }

  // Diff colours: grey where nothing changed, towards red where the target grew and blue where
  // it shrank, as far as the change is of the frame's larger side (new or removed code: fully).
  // d3-flame-graph's own differentialColorMapper is not used: it colours a frame whose total
  // did not change by its self delta, and new code orange.
  var NO_CHANGE = [224, 224, 224];
  var GREW = [230, 70, 60];
  var SHRANK = [70, 130, 225];
  function diffColor(delta, size) {
    var share = size > 0 ? Math.min(1, Math.abs(delta) / size) : 0;
    var to = delta > 0 ? GREW : SHRANK;
    var rgb = NO_CHANGE.map(function (c, i) {
      return Math.round(c + (to[i] - c) * share);
    });
    return 'rgb(' + rgb.join(', ') + ')';
  }

  function sampleType() {
    return data.sampleTypes[state.type];
  }
  function grandTotal() {
    return data.top[state.type].total;
  }
  // Values in the flame graph, in the unit pprof's flame graph would choose for this type.
  function fmt(v) {
    return scaledLabel(v, sampleType().unit, data.tree.unit[state.type]);
  }
  // Values in the top table and the total, in the unit of the table (pprof's -top).
  function fmtTable(v) {
    return scaledLabel(v, sampleType().unit, data.top[state.type].unit);
  }
  // A change, signed like the terminal's diff table: `+1.20s`, `-512kB`, `0`.
  function formatSigned(v, format) {
    return (v > 0 ? '+' : '') + format(v);
  }

  // --- Header: title and metadata.
  document.getElementById('title').textContent = data.meta.title;
  var meta = document.getElementById('meta');
  data.meta.fields.forEach(function (field) {
    var dt = document.createElement('dt');
    dt.textContent = field[0];
    var dd = document.createElement('dd');
    dd.textContent = field[1];
    meta.appendChild(dt);
    meta.appendChild(dd);
  });

  // --- The flame graph.
  var container = document.getElementById('flame-graph');
  var details = document.getElementById('details');
  var searchBox = document.getElementById('search');
  var searchResult = document.getElementById('search-result');
  var HIGHLIGHT = '#e600e6';

  // A frame's change: `+30ms (+25.00%)` of its base value, `(new)` when it had none.
  function describeChange(base, target, format) {
    var delta = sub(target, base);
    var relative = delta === 0 ? 'no change' : base === 0 ? 'new' : (delta > 0 ? '+' : '-') + formatPercent(delta, base);
    return formatSigned(delta, format || fmt) + ' (' + relative + ')';
  }

  function describeFrame(d) {
    if (diffMode) {
      var totals = sideTotals(state.type);
      return d.data.n + '\n' +
        'base ' + fmt(d.data.b) + ' (' + formatPercent(d.data.b, totals.base) + ') → target ' +
        fmt(d.data.t) + ' (' + formatPercent(d.data.t, totals.target) + ')\n' +
        describeChange(d.data.b, d.data.t);
    }
    var rootValue = grandTotal();
    return d.data.n + '\n' +
      fmt(d.data.x) + ' (' + formatPercent(d.data.x, rootValue) + ') total, ' +
      fmt(d.data.s) + ' (' + formatPercent(d.data.s, rootValue) + ') self';
  }

  var tip = flamegraph.tooltip.defaultFlamegraphTooltip().text(describeFrame);
  var chart = flamegraph.default()
    .width(container.clientWidth || 960)
    .cellHeight(18)
    .inverted(true) // root on top, like pprof's flame graph
    .minFrameSize(1) // frames under a pixel wide are not drawn: keeps big profiles fast
    .transitionDuration(300)
    .tooltip(tip)
    .computeDelta(diffMode)
    .label(function (d) {
      if (diffMode) return d.data.n + ': base ' + fmt(d.data.b) + ' → target ' + fmt(d.data.t) + ', ' + describeChange(d.data.b, d.data.t);
      return d.data.n + ': ' + fmt(d.data.x) + ' (' + formatPercent(d.data.x, grandTotal()) + ')';
    })
    .setColorMapper(function (d, original) {
      if (d.highlight) return HIGHLIGHT;
      return diffMode ? diffColor(d.delta, Math.max(toFloat(d.data.b), toFloat(d.data.t))) : original;
    })
    .setSearchMatch(searchMatch)
    .setSearchHandler(function (results, sum, total) {
      if (!searchBox.value) {
        searchResult.textContent = '';
        return;
      }
      if (results.length === 0) searchResult.textContent = 'no match';
      else if (diffMode) searchResult.textContent = results.length + ' frames, ' + describeMatches(results);
      else {
        var share = matchedTotal(results);
        searchResult.textContent = results.length + ' frames, ' + fmt(share) + ' = ' + formatPercent(share, grandTotal()) + ' of total';
      }
    })
    .details(details);

  // Search is a case-insensitive regexp as in pprof; text that is not a valid regexp is matched literally.
  var searchPattern = null;
  function compileSearch(term) {
    if (!term) return null;
    try {
      return new RegExp(term, 'i');
    } catch (e) {
      return new RegExp(term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
    }
  }
  // The exact total of the matching frames that are not inside another match.
  function matchedTotal(results) {
    var sum = 0;
    results.forEach(function (d) {
      for (var p = d.parent; p; p = p.parent) if (p.highlight) return;
      sum = add(sum, d.data.x);
    });
    return sum;
  }
  // The base and target of the matching frames that are not inside another match.
  function describeMatches(results) {
    var base = 0;
    var target = 0;
    results.forEach(function (d) {
      for (var p = d.parent; p; p = p.parent) if (p.highlight) return;
      base = add(base, d.data.b);
      target = add(target, d.data.t);
    });
    return 'base ' + fmt(base) + ' → target ' + fmt(target) + ', ' + describeChange(base, target);
  }
  function searchMatch(d, term) {
    if (!term || !searchPattern) return false;
    return searchPattern.test(d.data.n);
  }
  function runSearch() {
    searchPattern = compileSearch(searchBox.value);
    if (searchPattern) chart.search(searchBox.value);
    else {
      chart.clear();
      searchResult.textContent = '';
    }
  }
  var searchTimer = 0;
  searchBox.addEventListener('input', function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, 150);
  });
  searchBox.addEventListener('keydown', function (e) {
    if (e.key === 'Enter') {
      clearTimeout(searchTimer);
      runSearch();
    }
  });
  document.getElementById('reset-zoom').addEventListener('click', function () {
    chart.resetZoom();
  });

  function drawFlameGraph() {
    // A new tree: forget the previous height so it fits this type's deepest stack.
    chart.height(null);
    var tree = hierarchy(state.type);
    if (container.firstChild) chart.update(tree);
    else d3.select(container).datum(tree).call(chart);
    if (searchBox.value) runSearch();
  }

  var resizeTimer = 0;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      if (container.clientWidth && container.clientWidth !== chart.width()) chart.width(container.clientWidth).update();
    }, 200);
  });

  // --- The sample type switcher.
  var select = document.getElementById('sample-type');
  data.sampleTypes.forEach(function (st, i) {
    var option = document.createElement('option');
    option.value = String(i);
    option.textContent = st.type + (st.unit ? ' (' + st.unit + ')' : '');
    select.appendChild(option);
  });
  select.value = String(state.type);
  select.addEventListener('change', function () {
    state.type = Number(select.value);
    render();
  });

  // --- The top table.
  var tbody = document.querySelector('#top-table tbody');
  var headers = Array.prototype.slice.call(document.querySelectorAll('#top-table th'));
  var ROWS_SHOWN = 100;
  headers.forEach(function (th) {
    th.addEventListener('click', function () {
      var column = th.getAttribute('data-column');
      if (state.sort.column === column) state.sort.descending = !state.sort.descending;
      else state.sort = { column: column, descending: column !== 'function' };
      renderTable();
    });
  });
  document.getElementById('show-all').addEventListener('click', function () {
    state.showAll = !state.showAll;
    renderTable();
  });

  // pprof's order for flat (the data's own order) and any other column on request; exact.
  function sortedRows() {
    var rows = data.top[state.type].rows.slice();
    if (state.sort.column === 'flat' && state.sort.descending) return rows;
    var col = state.sort.column === 'function' ? 0 : state.sort.column === 'flat' ? 1 : 2;
    var sign = state.sort.descending ? -1 : 1;
    var rank = new Map(rows.map(function (r, i) { return [r, i]; }));
    rows.sort(function (a, b) {
      var x = col === 0 ? names[a[0]] : abs(a[col]);
      var y = col === 0 ? names[b[0]] : abs(b[col]);
      if (x < y) return -sign;
      if (x > y) return sign;
      return rank.get(a) - rank.get(b);
    });
    return rows;
  }

  if (diffMode) {
    document.getElementById('top-heading').textContent = 'Changes by function (target − base; percentages of the base total)';
    ['Function', 'Flat Δ', 'Flat%', 'Cum Δ', 'Cum%'].forEach(function (text, i) {
      headers[i].textContent = text;
    });
    var legend = document.getElementById('legend');
    [['grew', GREW], ['shrank', SHRANK], ['unchanged', NO_CHANGE]].forEach(function (entry) {
      var swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = 'rgb(' + entry[1].join(', ') + ')';
      legend.appendChild(swatch);
      legend.appendChild(document.createTextNode(entry[0]));
    });
    legend.title = 'A frame is as wide as the larger of its base and target values; its colour is the change as a share of that.';
    legend.hidden = false;
  }

  function cell(text, className) {
    var td = document.createElement('td');
    td.className = className;
    td.textContent = text;
    return td;
  }

  function renderTable() {
    var rows = sortedRows();
    var total = grandTotal();
    var shown = state.showAll ? rows.length : Math.min(rows.length, ROWS_SHOWN);
    var fragment = document.createDocumentFragment();
    for (var i = 0; i < shown; i++) {
      var r = rows[i];
      var tr = document.createElement('tr');
      tr.appendChild(cell(names[r[0]], 'name'));
      if (diffMode) {
        // As the terminal's diff table: the sign on the value, the percentage of its size.
        tr.appendChild(cell(formatSigned(r[1], fmtTable), 'num'));
        tr.appendChild(cell(formatPercent(r[1], total), 'num'));
        tr.appendChild(cell(formatSigned(r[2], fmtTable), 'num'));
        tr.appendChild(cell(formatPercent(r[2], total), 'num'));
      } else {
        tr.appendChild(cell(fmtTable(r[1]), 'num'));
        tr.appendChild(cell(formatPercent(r[1], total), 'num'));
        tr.appendChild(cell(fmtTable(r[2]), 'num'));
        tr.appendChild(cell(formatPercent(r[2], total), 'num'));
      }
      fragment.appendChild(tr);
    }
    tbody.replaceChildren(fragment);
    headers.forEach(function (th, i) {
      var sorted = th.getAttribute('data-column') === state.sort.column && (i !== 2 && i !== 4);
      if (sorted) th.setAttribute('aria-sort', state.sort.descending ? 'descending' : 'ascending');
      else th.removeAttribute('aria-sort');
    });
    document.getElementById('top-count').textContent = 'Showing ' + shown + ' of ' + rows.length + ' functions.';
    var more = document.getElementById('show-all');
    more.hidden = rows.length <= ROWS_SHOWN;
    more.textContent = state.showAll ? 'Show the top ' + ROWS_SHOWN : 'Show all ' + rows.length;
  }

  function render() {
    var st = sampleType();
    if (diffMode) {
      var totals = sideTotals(state.type);
      document.getElementById('total').textContent =
        st.type + ': base ' + fmtTable(totals.base) + ' → target ' + fmtTable(totals.target) + ', ' + describeChange(totals.base, totals.target, fmtTable);
    } else document.getElementById('total').textContent = 'Total: ' + fmtTable(grandTotal()) + ' ' + st.type;
    drawFlameGraph();
    renderTable();
  }

  render();
  // For tests and for people in the console: the formatters, and how long the first render took.
  window.kubectlProfefe = { format: pprofFormat, mode: diffMode ? 'diff' : 'profile', renderMs: performance.now() };
  document.body.setAttribute('data-ready', 'true');
})();
