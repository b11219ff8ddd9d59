// The flame graph page of `kubectl profefe open`. Reads the call tree and top tables that
// src/ui/flame-page.ts embedded as JSON, and draws them with d3-flame-graph (inlined before
// this script, as the globals `d3` and `flamegraph`). Makes no network requests.
(function () {
  'use strict';

  // --- Units: a port of src/report/units.ts (formatValue, formatPercent); test/ui checks they agree.
  var BYTE_UNITS = [['B', 1], ['kB', Math.pow(2, 10)], ['MB', Math.pow(2, 20)], ['GB', Math.pow(2, 30)], ['TB', Math.pow(2, 40)], ['PB', Math.pow(2, 50)]];
  var TIME_UNITS = [['ns', 1], ['us', 1e3], ['ms', 1e6], ['s', 1e9], ['hrs', 3600e9]];
  var TIME_FACTOR = { nanoseconds: 1, ns: 1, microseconds: 1e3, us: 1e3, milliseconds: 1e6, ms: 1e6, seconds: 1e9, s: 1e9 };

  function trimZeros(s) {
    return s.slice(-3) === '.00' ? s.slice(0, -3) : s;
  }

  function formatValue(value, unit) {
    var u = unit.toLowerCase();
    var scales;
    var base = value;
    if (u === 'bytes' || u === 'byte' || u === 'b') scales = BYTE_UNITS;
    else if (Object.prototype.hasOwnProperty.call(TIME_FACTOR, u)) {
      scales = TIME_UNITS;
      base = value * TIME_FACTOR[u];
    }
    if (!scales) return trimZeros(value.toFixed(2));
    var chosen = scales[0];
    for (var i = 0; i < scales.length; i++) if (Math.abs(base) >= scales[i][1]) chosen = scales[i];
    var text = trimZeros((base / chosen[1]).toFixed(2));
    return text === '0' || text === '-0' ? '0' : text + chosen[0];
  }

  function formatPercent(part, total) {
    return (total === 0 ? 0 : (100 * part) / total).toFixed(2) + '%';
  }

  var data = JSON.parse(document.getElementById('profile-data').textContent);
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

  // The d3-flame-graph tree of one sample type. Built afresh on every switch (it takes
  // milliseconds) because the chart marks zoom state on these objects. Frames without value for
  // that type are left out: a heap profile's in-use tree is much smaller than its allocation tree.
  function hierarchy(t) {
    var self = data.tree.self[t];
    var total = Float64Array.from(self);
    for (var i = nodeCount - 1; i > 0; i--) total[parentOf[i]] += total[i];
    var objects = new Array(nodeCount);
    for (var j = 0; j < nodeCount; j++) {
      if (!(total[j] > 0)) continue;
      var node = { n: names[data.tree.name[j]], v: total[j], s: self[j] };
      objects[j] = node;
      var p = parentOf[j];
      if (p >= 0 && objects[p]) (objects[p].c || (objects[p].c = [])).push(node);
    }
    return objects[0] || { n: names[0], v: 0, s: 0 };
  }

  function sampleType() {
    return data.sampleTypes[state.type];
  }
  function grandTotal() {
    return data.top[state.type].total;
  }
  function fmt(v) {
    return formatValue(v, sampleType().unit);
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

  function describeFrame(d) {
    var rootValue = grandTotal();
    return d.data.n + '\n' +
      fmt(d.data.v) + ' (' + formatPercent(d.data.v, rootValue) + ') total, ' +
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
    .label(function (d) {
      return d.data.n + ': ' + fmt(d.data.v) + ' (' + formatPercent(d.data.v, grandTotal()) + ')';
    })
    .setColorMapper(function (d, original) {
      return d.highlight ? HIGHLIGHT : original;
    })
    .setSearchMatch(searchMatch)
    .setSearchHandler(function (results, sum, total) {
      if (!searchBox.value) {
        searchResult.textContent = '';
        return;
      }
      searchResult.textContent = results.length === 0
        ? 'no match'
        : results.length + ' frames, ' + fmt(sum) + ' = ' + formatPercent(sum, total) + ' of total';
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

  function sortedRows() {
    var rows = data.top[state.type].rows.slice();
    var col = state.sort.column === 'function' ? 0 : state.sort.column === 'flat' ? 1 : 2;
    var sign = state.sort.descending ? -1 : 1;
    rows.sort(function (a, b) {
      var x = col === 0 ? names[a[0]] : Math.abs(a[col]);
      var y = col === 0 ? names[b[0]] : Math.abs(b[col]);
      if (x !== y) return x < y ? -sign : sign;
      var n = names[a[0]];
      var m = names[b[0]];
      return n < m ? -1 : n > m ? 1 : 0;
    });
    return rows;
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
      tr.appendChild(cell(fmt(r[1]), 'num'));
      tr.appendChild(cell(formatPercent(r[1], total), 'num'));
      tr.appendChild(cell(fmt(r[2]), 'num'));
      tr.appendChild(cell(formatPercent(r[2], total), 'num'));
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
    document.getElementById('total').textContent = 'Total: ' + fmt(grandTotal()) + ' ' + st.type;
    drawFlameGraph();
    renderTable();
  }

  render();
  // For tests and for people in the console: the formatter, and how long the first render took.
  window.kubectlProfefe = { formatValue: formatValue, formatPercent: formatPercent, renderMs: performance.now() };
  document.body.setAttribute('data-ready', 'true');
})();
