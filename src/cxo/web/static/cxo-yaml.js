/* JSON-like data as block YAML that PyYAML reads back to the same data (ADR 0008).
 *
 * Strings are always double-quoted: a JSON string is a YAML double-quoted scalar once the
 * characters YAML 1.1 treats as line breaks or refuses are escaped. Keys are plain when YAML reads
 * them back as the same string (or as a whole number: scale points), quoted otherwise. Small
 * mappings and lists go on one line, as in the documentation's examples.
 */
(function () {
  "use strict";

  var PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
  var YAML_WORDS = /^(y|n|yes|no|on|off|true|false|null|~)$/i;
  var INT_KEY = /^-?(0|[1-9][0-9]{0,14})$/;
  var WIDTH = 100;

  function yStr(s) {
    // A JSON string is a YAML double-quoted scalar, once the characters YAML 1.1 treats as
    // line breaks or refuses as unprintable are escaped too.
    return JSON.stringify(s).replace(/[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g, function (c) {
      return "\\u" + ("000" + c.charCodeAt(0).toString(16)).slice(-4);
    });
  }
  function yKey(k) {
    if ((PLAIN_KEY.test(k) && !YAML_WORDS.test(k)) || INT_KEY.test(k)) return k;
    return yStr(k);
  }
  function yNum(n) {
    if (!isFinite(n)) return yStr(String(n));
    var s = String(n);
    // PyYAML reads 1e-7 as a string; 1.0e-7 is a float
    if (/e/i.test(s) && s.indexOf(".") < 0) s = s.replace(/e/i, ".0e");
    return s;
  }
  function isScalar(v) { return v === null || typeof v !== "object"; }
  function yScalar(v) {
    if (v === null || v === undefined) return "null";
    if (typeof v === "boolean") return v ? "true" : "false";
    if (typeof v === "number") return yNum(v);
    return yStr(String(v));
  }
  function yFlow(v) {
    if (isScalar(v)) return yScalar(v);
    if (Array.isArray(v)) return "[" + v.map(yFlow).join(", ") + "]";
    return "{" + Object.keys(v).map(function (k) { return yKey(k) + ": " + yFlow(v[k]); }).join(", ") + "}";
  }
  function isEmpty(v) { return Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0; }
  function inline(v, used) {
    if (isScalar(v) || isEmpty(v)) return yFlow(v);
    var s = yFlow(v);
    return used + s.length <= WIDTH ? s : null;
  }
  function yMap(obj, ind) {
    var pad = " ".repeat(ind), out = [];
    Object.keys(obj).forEach(function (k) {
      var head = pad + yKey(k) + ":", v = obj[k], s = inline(v, head.length + 1);
      if (s !== null) out.push(head + " " + s);
      else out.push(head, ...(Array.isArray(v) ? ySeq(v, ind + 2) : yMap(v, ind + 2)));
    });
    return out;
  }
  function ySeq(list, ind) {
    var pad = " ".repeat(ind), out = [];
    list.forEach(function (v) {
      var s = inline(v, ind + 2);
      if (s !== null) { out.push(pad + "- " + s); return; }
      var sub = Array.isArray(v) ? ySeq(v, ind + 2) : yMap(v, ind + 2);
      sub[0] = pad + "- " + sub[0].slice(ind + 2);
      out.push(...sub);
    });
    return out;
  }
  function toYaml(data) {
    if (isScalar(data) || isEmpty(data)) return yFlow(data) + "\n";
    return (Array.isArray(data) ? ySeq(data, 0) : yMap(data, 0)).join("\n") + "\n";
  }
  window.cxoYaml = { dump: toYaml };
})();
