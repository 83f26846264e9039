// A form whose answer takes a few seconds (a report over a whole school year) says so while the
// next page is on its way: the text of its data-bezig attribute goes into the status line right
// after it (role="status", read out by screen readers). Without JavaScript the form works the same.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var text = form.getAttribute && form.getAttribute("data-bezig");
  if (!text) return;
  var status = form.nextElementSibling;
  if (status && !status.hasAttribute("data-bezig-status")) status = null;
  if (status) status.textContent = text;
  form.setAttribute("aria-busy", "true");
});
