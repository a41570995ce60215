/* Survey builder: palette buttons append a snippet to the definition. */
document.querySelectorAll("button.snippet").forEach(function (b) {
  b.addEventListener("click", function () {
    var area = document.getElementById("definition");
    var text = area.value.replace(/\s*$/, "\n");
    area.value = text + b.dataset.snippet;
    area.focus();
    area.dispatchEvent(new Event("keyup"));
  });
});
