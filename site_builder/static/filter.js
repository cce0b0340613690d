/* Optional: filter the standings by organisation or licence (form#card-filter). Without
   this script the form stays hidden and the table shows every model. */
(function () {
  "use strict";
  var form = document.getElementById("card-filter");
  var table = document.querySelector("#standings table.standings");
  if (!form || !table) { return; }
  function apply() {
    var org = form.elements.organization.value, lic = form.elements.license.value;
    var rows = table.querySelectorAll("tbody tr"), shown = 0;  /* preliminary models: 2nd tbody */
    Array.prototype.forEach.call(rows, function (row) {
      var keep = (!org || row.getAttribute("data-organization") === org) &&
                 (!lic || row.getAttribute("data-license") === lic);
      row.hidden = !keep;
      if (keep) { shown += 1; }
    });
    form.elements.count.value = (org || lic) ? shown + " of " + rows.length + " models" : "";
  }
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.hidden = false;
  apply();
})();
