// On a page with a form: a warning a little before the session ends for lack of activity, so
// typed text is not lost. "Ik ben er nog" asks the server to keep the session (POST, with the
// CSRF token); the warning sits in an aria-live="assertive" region, so screen readers read it out.
(function () {
  var body = document.body;
  var idle = parseInt(body.getAttribute("data-sessie-idle"), 10);
  var warnBefore = parseInt(body.getAttribute("data-sessie-waarschuwing"), 10) || 120;
  var url = body.getAttribute("data-sessie-verleng");
  var box = document.getElementById("sessie-waarschuwing");
  var text = document.getElementById("sessie-tekst");
  var button = document.getElementById("sessie-verleng");
  if (!idle || !url || !box || !document.querySelector("main form")) return;
  var warnTimer, endTimer;

  function minutes(seconds) {
    var m = Math.max(1, Math.round(seconds / 60));
    return m === 1 ? "1 minuut" : m + " minuten";
  }

  function schedule() {
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    box.hidden = true;
    warnTimer = setTimeout(function () {
      box.hidden = false;  // shown first, then filled: screen readers announce the new text
      text.textContent = "Let op: over " + minutes(warnBefore) + " wordt u uitgelogd, omdat u een tijd " +
        "niets heeft opgeslagen. Wat u hebt getypt gaat dan verloren. Werkt u nog? Kies dan 'Ik ben er nog'.";
      button.hidden = false;
    }, Math.max(0, idle - warnBefore) * 1000);
    endTimer = setTimeout(function () {
      box.hidden = false;
      text.textContent = "U bent uitgelogd omdat u een tijd niets heeft gedaan. Kopieer wat u hebt " +
        "getypt voordat u de pagina verlaat, log opnieuw in en plak het terug.";
      button.hidden = true;
    }, idle * 1000);
  }

  button.addEventListener("click", function () {
    var token = document.querySelector('meta[name="csrf-token"]');
    fetch(url, {method: "POST", credentials: "same-origin",
                headers: {"X-CSRFToken": token ? token.content : "", "Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok || response.redirected) throw new Error("verlopen");
        return response.json();
      })
      .then(function (data) {
        if (data.idle_seconds) idle = data.idle_seconds;
        schedule();
        var main = document.getElementById("inhoud");
        if (main) main.setAttribute("data-sessie-verlengd", "1");
      })
      .catch(function () {
        text.textContent = "Uw sessie is al verlopen. Kopieer wat u hebt getypt, log opnieuw in en plak het terug.";
        button.hidden = true;
      });
  });
  schedule();
})();
