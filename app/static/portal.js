// The portal works without this file. With it: copy buttons for license keys, and typing a new
// card's details selects "Add a new card". Served by us (CSP: script-src 'self').
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) { return; }
    var status = button.nextElementSibling;
    button.hidden = false;
    button.addEventListener("click", function () {
      var done = function () {
        if (status) { status.textContent = button.getAttribute("data-copied") || ""; }
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () {
          field.select();
        });
      } else {
        field.select();
        try { if (document.execCommand("copy")) { done(); } } catch (error) { /* selected */ }
      }
    });
  });

  var newCard = document.getElementById("method-new");
  if (newCard) {
    document.querySelectorAll(".new-card input").forEach(function (input) {
      input.addEventListener("input", function () { newCard.checked = true; });
    });
  }
});
