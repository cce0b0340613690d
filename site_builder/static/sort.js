/* Optional: click a column heading of a table.sortable to sort it. Pages work without it. */
(function () {
  "use strict";
  function key(cell) {
    var raw = cell.getAttribute("data-value");
    if (raw === null) { raw = cell.textContent.trim(); }
    var num = parseFloat(raw);
    return isNaN(num) ? raw.toLowerCase() : num;
  }
  function sortBy(table, index, th) {
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    /* each tbody on its own: preliminary models keep their band at the foot */
    Array.prototype.forEach.call(table.tBodies, function (body) {
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a.cells[index]), y = key(b.cells[index]);
        if (x === y) { return 0; }
        if (typeof x !== typeof y) { return typeof x === "number" ? -1 : 1; }
        return (x < y ? -1 : 1) * (ascending ? 1 : -1);
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
    Array.prototype.forEach.call(th.parentNode.cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var head = table.tHead && table.tHead.rows[0];
    if (!head) { return; }
    Array.prototype.forEach.call(head.cells, function (th, index) {
      if (th.hasAttribute("data-nosort")) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      if (th.querySelector("a")) {  /* keep links out of the button: sort with an arrow after it */
        button.setAttribute("aria-label", "Sort by " + th.textContent.trim());
      } else {
        while (th.firstChild) { button.appendChild(th.firstChild); }
      }
      th.appendChild(button);
      button.addEventListener("click", function () { sortBy(table, index, th); });
    });
  });
})();
