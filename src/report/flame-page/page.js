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
  data.top.forEach(function (top) {
    top.total = exact(top.total);
    top.rows.forEach(function (r) {
      r[1] = exact(r[1]);
      r[2] = exact(r[2]);
    });
  });
  var diffMode = data.mode === 'diff';
  var names = data.names;

  // --- The call tree, packed by src/ui/flame-page.ts (FlamePageData.tree): little-endian typed
  // arrays in base64. Per node in preorder its name and depth; self values only where not zero.
  var LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
  function bytesOf(base64) {
    var text = atob(base64);
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes;
  }
  function unpackUints(packed) {
    var bytes = bytesOf(packed.data);
    var n = bytes.length / packed.bytes;
    if (packed.bytes === 1) return bytes;
    if (LITTLE_ENDIAN) return packed.bytes === 2 ? new Uint16Array(bytes.buffer, 0, n) : new Uint32Array(bytes.buffer, 0, n);
    var view = new DataView(bytes.buffer);
    var out = new Uint32Array(n);
    for (var i = 0; i < n; i++) out[i] = packed.bytes === 2 ? view.getUint16(2 * i, true) : view.getUint32(4 * i, true);
    return out;
  }
  // A packed column as self values per node: a Float64Array, or for int64 columns an Array of
  // numbers and BigInts beyond 2^53 (canonical, as everywhere on the page).
  function unpackSelf(packed) {
    var bytes = bytesOf(packed.data);
    var n = bytes.length / 8;
    var view = LITTLE_ENDIAN ? null : new DataView(bytes.buffer);
    var self;
    if (packed.type === 'float64') {
      var values = view ? null : new Float64Array(bytes.buffer, 0, n);
      self = new Float64Array(nodeCount);
      for (var k = 0; k < n; k++) self[selfNodes[k]] = view ? view.getFloat64(8 * k, true) : values[k];
      return self;
    }
    var big = view ? null : new BigInt64Array(bytes.buffer, 0, n);
    self = new Array(nodeCount).fill(0);
    for (var j = 0; j < n; j++) self[selfNodes[j]] = canonical(view ? view.getBigInt64(8 * j, true) : big[j]);
    return self;
  }

  var nodeCount = data.tree.nodes;
  var nameOf = unpackUints(data.tree.name);
  var depthOf = unpackUints(data.tree.depth);
  var selfNodes = unpackUints(data.tree.selfNodes);
  // Parents from depths: in preorder, a node's parent is the last node seen one level up; a
  // node's subtree is the run of nodes after it up to `endOf` (exclusive).
  var parentOf = new Int32Array(nodeCount);
  var endOf = new Int32Array(nodeCount);
  (function () {
    var lastAtDepth = [];
    for (var i = 0; i < nodeCount; i++) {
      var d = depthOf[i];
      parentOf[i] = d === 0 ? -1 : lastAtDepth[d - 1];
      lastAtDepth[d] = i;
    }
    for (var j = nodeCount - 1; j >= 0; j--) {
      if (endOf[j] === 0) endOf[j] = j + 1;
      if (j > 0 && endOf[parentOf[j]] < endOf[j]) endOf[parentOf[j]] = endOf[j];
    }
  })();
  // Self values unpacked per sample type when first shown.
  var selfOf = [];
  var baseSelfOf = [];
  function selfColumn(t) {
    return selfOf[t] || (selfOf[t] = unpackSelf(data.tree.self[t]));
  }
  function baseSelfColumn(t) {
    return baseSelfOf[t] || (baseSelfOf[t] = unpackSelf(data.tree.baseSelf[t]));
  }

  var state = { type: data.defaultSampleIndex, sort: { column: 'flat', descending: true }, showAll: false };

  // Per node, the exact totals of a column of self values (a node's self plus its descendants'):
  // in doubles when the column is (its values' magnitudes sum below 2^53: each sum is exact),
  // else in BigInt with int64 wrap-around, as pprof sums.
  function totalsOf(self) {
    if (self instanceof Float64Array) {
      var fast = Float64Array.from(self);
      for (var i = nodeCount - 1; i > 0; i--) fast[parentOf[i]] += fast[i];
      return fast;
    }
    var big = self.map(function (v) { return BigInt(v); });
    for (var j = nodeCount - 1; j > 0; j--) big[parentOf[j]] = BigInt.asIntN(64, big[parentOf[j]] + big[j]);
    return big.map(canonical);
  }

  // --- What is drawn of one sample type: d3-flame-graph's tree of frame objects, made only for
  // the frames at least `nodeFraction` of the frame in view wide (the root, or the frame zoomed
  // into), and for more of them when a zoom makes them wide enough. Frames without value for
  // the type are never drawn: a heap profile's in-use tree is much smaller than its allocation
  // tree. A frame object has `i` (its node), `n` (its name) and `v` (its width, a double); in a
  // profile `x` and `s`, its exact total and self value; in a diff `b` and `t`, its exact base
  // and target totals, and `d` its self delta (the chart's computeDelta sums it into `delta`).
  // A frame is as wide as the larger of its two sides, summed from the self values up so that
  // children always fit in their parent: code that is gone still shows, as wide as it was.
  function view(t) {
    var width = new Float64Array(nodeCount);
    var v = { type: t, width: width, frames: new Array(nodeCount), root: null };
    if (diffMode) {
      var targetSelf = selfColumn(t);
      var baseSelf = baseSelfColumn(t);
      v.target = totalsOf(targetSelf);
      v.base = totalsOf(baseSelf);
      for (var k = 0; k < nodeCount; k++) width[k] = Math.max(Math.abs(toFloat(targetSelf[k])), Math.abs(toFloat(baseSelf[k])));
      for (var i = nodeCount - 1; i > 0; i--) width[parentOf[i]] += width[i];
    } else {
      v.total = totalsOf(selfColumn(t));
      for (var j = 0; j < nodeCount; j++) width[j] = v.total[j] > 0 ? toFloat(v.total[j]) : 0;
    }
    v.root = frame(v, 0);
    return v;
  }

  function frame(v, j) {
    var f = v.frames[j];
    if (f) return f;
    var t = v.type;
    if (diffMode) f = { i: j, n: names[nameOf[j]], v: v.width[j], d: toFloat(sub(selfColumn(t)[j], baseSelfColumn(t)[j])), b: v.base[j], t: v.target[j] };
    else f = { i: j, n: names[nameOf[j]], v: v.width[j], x: v.total[j], s: selfColumn(t)[j] };
    return (v.frames[j] = f);
  }

  // Frames narrower than this are not drawn in a view of node z: as pprof's -nodefraction cutoff, an integer.
  function threshold(v, z) {
    return Math.trunc(data.nodeFraction * v.width[z]);
  }

  // Makes the frames under node z that are wide enough in a view of z, and only those (what a
  // deeper zoom made goes again), and gives each frame a last, grey child standing for its
  // children that are not drawn: a placeholder (`p` is its frame's node) with their count and
  // exact totals, so that no gap looks like self time and a diff's colours count their change.
  // Sets `v.left`, what is not drawn under z. Returns whether the frames changed.
  function expand(v, z) {
    var cutoff = threshold(v, z);
    var changed = false;
    var unsorted = [];
    var shrunk = [];
    var left = { frames: 0, total: 0, base: 0, target: 0 };
    var visited = [v.frames[z]];
    v.frames[z].missing = noneMissing();
    for (var j = z + 1; j < endOf[z]; ) {
      if (!(v.width[j] > 0)) {
        j = endOf[j];
        continue;
      }
      var parent = v.frames[parentOf[j]];
      if (v.width[j] < cutoff) {
        if (v.frames[j]) {
          for (var gone = j; gone < endOf[j]; gone++) v.frames[gone] = undefined;
          if (!parent.shrunk) shrunk.push(parent);
          parent.shrunk = true;
          changed = true;
        }
        var count = 0;
        for (var k = j; k < endOf[j]; k++) if (v.width[k] > 0) count++;
        [parent.missing, left].forEach(function (m) {
          m.frames += count;
          if (diffMode) {
            m.base = add(m.base, v.base[j]);
            m.target = add(m.target, v.target[j]);
          } else m.total = add(m.total, v.total[j]);
        });
        parent.missing.width += v.width[j];
        j = endOf[j];
        continue;
      }
      var f = v.frames[j];
      if (!f) {
        f = frame(v, j);
        var siblings = parent.c || (parent.c = []);
        if (siblings.length > 0 && siblings[siblings.length - 1].i > j && !parent.unsorted) {
          unsorted.push(parent);
          parent.unsorted = true;
        }
        siblings.push(f);
        changed = true;
      }
      f.missing = noneMissing();
      visited.push(f);
      j++;
    }
    shrunk.forEach(function (f) {
      f.shrunk = false;
      f.c = f.c.filter(function (c) {
        return v.frames[c.i] === c || c.p !== undefined;
      });
    });
    visited.forEach(function (f) {
      if (placeChildrenNotDrawn(f)) changed = true;
    });
    // Siblings in the tree's order (by name; the placeholder last), wherever a zoom added one.
    unsorted.forEach(function (f) {
      f.unsorted = false;
      f.c.sort(function (a, b) { return a.i - b.i; });
    });
    v.left = left;
    v.viewRoot = z;
    return changed;
  }

  function noneMissing() {
    return { frames: 0, width: 0, total: 0, base: 0, target: 0 };
  }

  // Adds, updates or removes the placeholder of a frame's children not drawn; returns whether it changed.
  function placeChildrenNotDrawn(f) {
    var m = f.missing;
    var old = f.placeholder;
    if (old && old.frames === m.frames && old.v === m.width) return false;
    if (old) f.c.splice(f.c.indexOf(old), 1);
    f.placeholder = undefined;
    if (m.frames === 0) return !!old;
    var p = { i: endOf[f.i], p: f.i, n: '(' + m.frames + (m.frames === 1 ? ' frame' : ' frames') + ' not drawn)', v: m.width, frames: m.frames };
    if (diffMode) {
      p.b = m.base;
      p.t = m.target;
      p.d = toFloat(sub(m.target, m.base));
    } else {
      p.x = m.total;
      p.s = 0;
    }
    (f.c || (f.c = [])).push(p);
    f.placeholder = p;
    return true;
  }

  // The view drawn: of the selected sample type, at the frame in view.
  var current = null;

  // The base's and target's totals of the sample type shown: the root's two sides.
  function sideTotals() {
    return { base: current.base[0], target: current.target[0] };
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
  // A total for people, in the unit that suits its own size (pprof's 'auto'): `160ms`, not the
  // table's `160000000ns` when a diff's small changes made the table pick nanoseconds.
  function fmtAuto(v) {
    return scaledLabel(v, sampleType().unit, 'auto');
  }
  // A change, signed like the terminal's diff table: `+1.20s`, `-512kB`, `0`.
  function formatSigned(v, format) {
    return (v > 0 ? '+' : '') + format(v);
  }

  // --- Header: title, what the profile is, its fields, and the long lists folded.
  document.getElementById('title').textContent = data.meta.title;
  if (data.meta.subtitle) {
    var subtitle = document.getElementById('subtitle');
    subtitle.textContent = data.meta.subtitle;
    subtitle.hidden = false;
  }
  function appendField(list, field, wrap) {
    var dt = document.createElement('dt');
    dt.textContent = field[0];
    var dd = document.createElement('dd');
    dd.textContent = field[1];
    var into = list;
    if (wrap) {
      into = document.createElement('div');
      list.appendChild(into);
    }
    into.appendChild(dt);
    into.appendChild(dd);
  }
  var meta = document.getElementById('meta');
  data.meta.fields.forEach(function (field) {
    appendField(meta, field, true);
  });
  if (data.meta.details) {
    var folded = document.getElementById('meta-details');
    folded.querySelector('summary').textContent = data.meta.details.map(function (d) { return d[0]; }).join(', ');
    data.meta.details.forEach(function (field) {
      appendField(folded.querySelector('dl'), field, false);
    });
    folded.hidden = false;
  }

  // --- The flame graph.
  var container = document.getElementById('flame-graph');
  var details = document.getElementById('details');
  var searchBox = document.getElementById('search');
  var searchResult = document.getElementById('search-result');
  var HIGHLIGHT = '#e600e6';
  var NOT_DRAWN = '#dcdcdc'; // placeholders for frames too narrow to draw
  var ROOT_COLOR = '#c8ccd2';

  // --- Colours of a profile's frames: one per Go package, from a hash of its import path, so a
  // package has the same colour in every page and every run (pprof's flame graph and speedscope
  // colour by package too). Light enough for black labels; hues spread by the hash.
  // The package of a Go symbol: what precedes the first dot after the last slash, with type
  // arguments (`pkg.F[go.shape.int]`) left out. `github.com/a/b.(*T).M` → `github.com/a/b`.
  function packageOf(name) {
    var s = name;
    var bracket = s.indexOf('[');
    if (bracket > 0) s = s.slice(0, bracket);
    if (/^0x[0-9a-f]+$/i.test(s)) return '(unsymbolized)';
    var slash = s.lastIndexOf('/');
    var dot = s.indexOf('.', slash + 1);
    return dot > 0 ? s.slice(0, dot) : s;
  }
  // FNV-1a, 32 bits, over the UTF-16 code units.
  function hashOf(text) {
    var h = 0x811c9dc5;
    for (var i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h;
  }
  var packageColors = new Map();
  function packageColor(name) {
    var pkg = packageOf(name);
    var c = packageColors.get(pkg);
    if (c) return c;
    var h = hashOf(pkg);
    // Hue from the low bits; lightness in three steps from others, so neighbours of close hue still differ.
    c = 'hsl(' + (h % 360) + ', ' + (50 + ((h >>> 12) % 3) * 8) + '%, ' + (70 + ((h >>> 20) % 3) * 5) + '%)';
    packageColors.set(pkg, c);
    return c;
  }

  // --- Labels wherever they fit, as pprof's flame graph does: the full name, else the name without
  // its package path (`pkg.(*T).M`), else without its package (`(*T).M`), else the shortest cut
  // with an ellipsis; none when not even 3 characters fit. The label font is monospace (page.css):
  // one character's width is measured once.
  var LABEL_PADDING = 3;
  var charWidth = (function () {
    var ctx = document.createElement('canvas').getContext('2d');
    if (!ctx) return 6.6;
    var probe = document.createElement('span');
    probe.className = 'frame-label-probe';
    document.body.appendChild(probe);
    ctx.font = getComputedStyle(probe).font || '11px monospace';
    probe.remove();
    return ctx.measureText('0123456789').width / 10 || 6.6;
  })();
  function shorterNames(name) {
    var out = [name];
    var s = name;
    var slash = s.lastIndexOf('/', s.indexOf('[') > 0 ? s.indexOf('[') : s.length);
    if (slash >= 0) out.push((s = s.slice(slash + 1)));
    var dot = s.indexOf('.');
    if (dot > 0 && dot < s.length - 1 && !/^0x/i.test(s)) out.push((s = s.slice(dot + 1)));
    // A method without its receiver: `(*Map).LoadOrStore` → `LoadOrStore`.
    var method = /\)\.([^()]+)$/.exec(s);
    if (method) out.push(method[1]);
    return out;
  }
  function labelFor(name, width) {
    var fits = Math.floor((width - 2 * LABEL_PADDING) / charWidth);
    if (fits < 3) return '';
    var names = shorterNames(name);
    for (var i = 0; i < names.length; i++) if (names[i].length <= fits) return names[i];
    var last = names[names.length - 1];
    return last.slice(0, fits - 1) + '\u2026';
  }
  // Frames narrower than this have no border: a white line on a 2-pixel frame is most of it.
  var BORDER_MIN_WIDTH = 6;

  // A frame's change: `+30ms (+25.00%)` of its base value, `(new)` when it had none.
  function describeChange(base, target, format) {
    var delta = sub(target, base);
    var relative = delta === 0 ? 'no change' : base === 0 ? 'new' : (delta > 0 ? '+' : '-') + formatPercent(delta, base);
    return formatSigned(delta, format || fmt) + ' (' + relative + ')';
  }

  // What a placeholder stands for: its frames' total (in a diff, their change).
  function describeNotDrawn(d) {
    if (diffMode) return 'base ' + fmt(d.data.b) + ' → target ' + fmt(d.data.t) + ', ' + describeChange(d.data.b, d.data.t);
    return fmt(d.data.x) + ' (' + formatPercent(d.data.x, grandTotal()) + ')';
  }

  // The cutoff of the view, for people: `0.10us (1% of the total)`, `5% of main.handler`; a
  // diff's widths are the larger side of each frame, a share of the graph rather than a value.
  function describeCutoff() {
    var fraction = String(+(data.nodeFraction * 100).toPrecision(6)) + '%';
    var z = current.viewRoot;
    var of = z !== 0 ? 'of ' + names[nameOf[z]] : diffMode ? 'of the graph' : 'of the total';
    if (diffMode) return fraction + ' ' + of;
    return fmt(threshold(current, z)) + ' (' + fraction + ' ' + of + ')';
  }

  function describeFrame(d) {
    if (d.data.p !== undefined) {
      var caller = names[nameOf[d.data.p]];
      return d.data.n + '\n' +
        'frames under ' + caller + ', each narrower than ' + describeCutoff() + '\n' +
        describeNotDrawn(d) + ' in all\n' +
        'click to zoom into ' + caller + ' and draw them';
    }
    if (diffMode) {
      var totals = sideTotals();
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
    .resetHeightOnZoom(true) // a zoom can draw deeper frames than the first view had
    .tooltip(tip)
    .computeDelta(diffMode)
    .label(function (d) {
      if (d.data.p !== undefined) return d.data.n + ': ' + describeNotDrawn(d);
      if (diffMode) return d.data.n + ': base ' + fmt(d.data.b) + ' → target ' + fmt(d.data.t) + ', ' + describeChange(d.data.b, d.data.t);
      return d.data.n + ': ' + fmt(d.data.x) + ' (' + formatPercent(d.data.x, grandTotal()) + ')';
    })
    .setColorMapper(function (d) {
      if (d.highlight) return HIGHLIGHT;
      if (d.data.p !== undefined && !diffMode) return NOT_DRAWN;
      if (diffMode) return diffColor(d.delta, Math.max(toFloat(d.data.b), toFloat(d.data.t)));
      return d.data.i === 0 ? ROOT_COLOR : packageColor(d.data.n);
    })
    .setSearchMatch(searchMatch)
    .setSearchHandler(function () {
      if (!searchBox.value || !searchPattern) {
        searchResult.textContent = '';
        return;
      }
      searchResult.textContent = describeMatches(matchesOf(searchPattern));
    })
    .onClick(function (d) {
      // A placeholder zooms into the frame whose children it stands for.
      if (d.data.p !== undefined) chart.zoomTo(d.parent);
      else showDetail(d.data.i);
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
  // The matching frames of the whole tree, drawn or not: how many, and the exact totals of those
  // not inside another match (in a diff, of both sides).
  function matchesOf(pattern) {
    var verdict = new Int8Array(names.length); // 0: not tested yet, 1: matches, 2: does not
    var m = { frames: 0, total: 0, base: 0, target: 0 };
    var outerEnd = 0; // the end of the outermost match the walk is inside
    for (var j = 1; j < nodeCount; ) {
      if (!(current.width[j] > 0)) {
        j = endOf[j];
        continue;
      }
      var name = nameOf[j];
      if (verdict[name] === 0) verdict[name] = pattern.test(names[name]) ? 1 : 2;
      if (verdict[name] === 1) {
        m.frames++;
        if (j >= outerEnd) {
          outerEnd = endOf[j];
          if (diffMode) {
            m.base = add(m.base, current.base[j]);
            m.target = add(m.target, current.target[j]);
          } else m.total = add(m.total, current.total[j]);
        }
      }
      j++;
    }
    return m;
  }
  function describeMatches(m) {
    if (m.frames === 0) return 'no match';
    if (diffMode) return m.frames + ' frames, base ' + fmt(m.base) + ' → target ' + fmt(m.target) + ', ' + describeChange(m.base, m.target);
    return m.frames + ' frames, ' + fmt(m.total) + ' = ' + formatPercent(m.total, grandTotal()) + ' of total';
  }
  function searchMatch(d, term) {
    if (!term || !searchPattern || d.data.p !== undefined) return false;
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
    current = view(state.type);
    expand(current, 0);
    if (container.firstChild) chart.update(current.root);
    else d3.select(container).datum(current.root).call(chart);
    decorateFrames();
    describeLeftOut();
    describeZoom();
    if (searchBox.value) runSearch();
  }

  // After a zoom (or a reset) to node z: draws the frames now wide enough, and says what is not drawn.
  function showDetail(z) {
    if (expand(current, z)) {
      chart.update(current.root);
      if (searchBox.value) runSearch();
    }
    // The zoom itself drew frames that were under a pixel wide before.
    decorateFrames();
    describeLeftOut();
    describeZoom();
  }

  // `Zoomed into NAME: 53.38s (22.06% of total)` beside the reset button, while zoomed.
  function describeZoom() {
    var z = current.viewRoot;
    var note = document.getElementById('zoom-state');
    var reset = document.getElementById('reset-zoom');
    reset.disabled = z === 0;
    if (z === 0) {
      note.hidden = true;
      note.textContent = '';
      return;
    }
    var f = current.frames[z];
    var held = diffMode
      ? 'base ' + fmt(f.b) + ' → target ' + fmt(f.t) + ', ' + describeChange(f.b, f.t)
      : fmt(f.x) + ' (' + formatPercent(f.x, grandTotal()) + ' of total)';
    note.textContent = 'Zoomed into ' + f.n + ': ' + held;
    note.hidden = false;
  }

  // After every drawing (d3-flame-graph sets each frame's class on every update, so what is ours
  // is in attributes and elements of our own): placeholders are hatched (page.css, the mask in
  // page.html), whatever their colour (in a diff they are coloured by their change like any
  // frame); frames narrower than BORDER_MIN_WIDTH lose their border; each frame gets the label
  // that fits its width once the zoom's transition is over (d3-flame-graph's own labels, only on
  // frames of 35 pixels or more and cut at the end, are hidden by page.css).
  function decorateFrames() {
    var width = chart.width();
    d3.select(container).selectAll('g.frame').each(function (d) {
      var px = (d.x1 - d.x0) * width;
      var g = d3.select(this);
      g.attr('data-not-drawn', d.data.p !== undefined ? '' : null).attr('data-narrow', px < BORDER_MIN_WIDTH ? '' : null);
      var text = g.select('text.frame-label');
      if (text.empty()) text = g.append('text').attr('class', 'frame-label').attr('x', LABEL_PADDING).attr('y', 13);
      text.text(labelFor(d.data.n, px));
    });
  }

  // `Not drawn: N frames narrower than X (0.05% of the total), Y (1.20% of total) in all. ...`, for the frame in view.
  function describeLeftOut() {
    var left = current.left;
    var note = document.getElementById('left-out');
    if (left.frames === 0) {
      note.hidden = true;
      note.textContent = '';
      return;
    }
    var frames = left.frames + (left.frames === 1 ? ' frame' : ' frames');
    var held = diffMode
      ? 'base ' + fmt(left.base) + ' → target ' + fmt(left.target) + ', ' + describeChange(left.base, left.target)
      : fmt(left.total) + ' (' + formatPercent(left.total, grandTotal()) + ' of total)';
    note.textContent = 'Not drawn: ' + frames + ' narrower than ' + describeCutoff() + ', ' + held + ' in all. ' +
      'The hatched frames "(N frames not drawn)" stand in for them: hover one for what it holds, click a frame to zoom in and draw its detail.';
    note.hidden = false;
  }

  var resizeTimer = 0;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      if (container.clientWidth && container.clientWidth !== chart.width()) {
        chart.width(container.clientWidth).update();
        decorateFrames();
      }
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

  // A diff's sides: what each is, how many profiles, how long they cover, and its total of the
  // sample type shown (as loaded; the target's normalization factor when it was scaled).
  function renderSides() {
    var sides = data.meta.sides;
    if (!sides) return;
    var table = document.getElementById('sides');
    var rows = document.createDocumentFragment();
    var unit = sampleType().unit;
    sides.forEach(function (side) {
      var tr = document.createElement('tr');
      tr.setAttribute('data-side', side.role.toLowerCase());
      var total = scaledLabel(exact(side.totals[state.type]), unit, 'auto');
      var ratio = side.ratios ? side.ratios[state.type] : 1;
      var totalCell = cell(total, 'total');
      if (ratio !== 1) {
        var note = document.createElement('span');
        note.className = 'normalized';
        note.textContent = ', normalized \u00d7' + String(Number(ratio.toPrecision(3))) + ' to the base\u2019s';
        totalCell.appendChild(note);
      }
      [cell(side.role, 'role'), cell(side.made, 'made'), cell(side.duration || 'none (a snapshot)', 'duration'), totalCell, cell(side.name, 'name')].forEach(function (td) {
        tr.appendChild(td);
      });
      rows.appendChild(tr);
    });
    table.querySelector('tbody').replaceChildren(rows);
    table.hidden = false;
  }

  function render() {
    var st = sampleType();
    renderSides();
    drawFlameGraph();
    if (diffMode) {
      var totals = sideTotals();
      document.getElementById('total').textContent =
        st.type + ': base ' + fmtAuto(totals.base) + ' → target ' + fmtAuto(totals.target) + ', ' + describeChange(totals.base, totals.target, fmtAuto);
    } else document.getElementById('total').textContent = 'Total: ' + fmtTable(grandTotal()) + ' ' + st.type;
    renderTable();
  }

  // The first drawing has nothing to move from: no transitions, so it shows at once.
  chart.transitionDuration(0);
  render();
  // Ready once the browser has painted the first drawing (a task after the next frame): for tests,
  // and for people in the console, the formatters and how long that took since navigation.
  requestAnimationFrame(function () {
    setTimeout(function () {
      chart.transitionDuration(300);
      window.kubectlProfefe = { format: pprofFormat, mode: diffMode ? 'diff' : 'profile', renderMs: performance.now() };
      document.body.setAttribute('data-ready', 'true');
    }, 0);
  });
})();
