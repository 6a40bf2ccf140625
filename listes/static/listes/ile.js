// Portail listes, the ILE form. Progressive enhancement only: without it every field shows, and the
// server asks the fields of a citizen of another EU member state of them only (listes.forms.IleForm).
(function () {
  "use strict";
  var radios = document.querySelectorAll('input[name="nationalite"]');
  var marked = document.querySelectorAll("[data-nationalite]");
  if (!radios.length || !marked.length) return;
  // Each marked field's DSFR group: the fieldset of a list of checkboxes, else its own group.
  var groups = [];
  marked.forEach(function (input) {
    var el = input.closest("fieldset") || input.closest(".fr-select-group, .fr-checkbox-group, .fr-input-group");
    if (el && !groups.some(function (g) { return g.el === el; })) {
      groups.push({ el: el, value: input.getAttribute("data-nationalite") });
    }
  });
  function apply() {
    var checked = document.querySelector('input[name="nationalite"]:checked');
    groups.forEach(function (g) { g.el.hidden = !!checked && checked.value !== g.value; });
  }
  radios.forEach(function (r) { r.addEventListener("change", apply); });
  apply();
})();
