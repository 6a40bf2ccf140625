// Portail mandant, demande steps. Progressive enhancement only: every step works without it.
(function () {
  "use strict";

  // Show only the block that matches the chosen option (portée, or how the mandataire is identified).
  function toggle(radioName, blocks) {
    var radios = document.querySelectorAll('input[name="' + radioName + '"]');
    if (!radios.length) return;
    function apply() {
      var checked = document.querySelector('input[name="' + radioName + '"]:checked');
      Object.keys(blocks).forEach(function (value) {
        var el = document.getElementById(blocks[value]);
        if (el) el.hidden = !!checked && checked.value !== value;
      });
    }
    radios.forEach(function (r) { r.addEventListener("change", apply); });
    apply();
  }
  toggle("portee", { scrutin: "bloc-scrutin", duree: "bloc-duree" });
  toggle("mode", { nne: "bloc-nne", etat_civil: "bloc-etat-civil" });

  // Live checks of the mandataire while typing.
  var form = document.querySelector("form[data-live-check]");
  if (!form) return;
  var target = document.getElementById("live-checks");
  var url = form.getAttribute("data-live-check");
  var timer = null;
  var last = "";

  function check() {
    var params = new URLSearchParams(new FormData(form));
    params.delete("csrfmiddlewaretoken");
    params.delete("email_mandataire");  // not needed by the checks: kept out of URLs and logs
    var query = params.toString();
    if (query === last) return;
    last = query;
    fetch(url + "?" + query, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) { if (query === last) target.innerHTML = html; })
      .catch(function () {});
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(check, 350);
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
})();
