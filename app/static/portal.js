// The portal works without this file. With it: copy buttons for license keys, typing a new
// card's details selects "Add a new card", and a payment in progress (the bank or Stripe's
// webhook pending) is asked about through our GraphQL API until it is final, then the page
// reloads to show the outcome. Served by us (CSP: script-src 'self').
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

  var pending = document.getElementById("payment-pending");
  if (pending && window.fetch) { poll(pending.getAttribute("data-payment")); }

  var newCard = document.getElementById("method-new");
  if (newCard) {
    document.querySelectorAll(".new-card input").forEach(function (input) {
      input.addEventListener("input", function () { newCard.checked = true; });
    });
  }
});

// One request a second, two minutes at most (the page's link checks again after that). The
// portal session's cookie counts for JSON POSTs to /graphql.
function poll(paymentId) {
  var left = 120;
  var again = function () {
    left -= 1;
    if (left > 0) { window.setTimeout(ask, 1000); }
  };
  var ask = function () {
    fetch("/graphql", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({
        query: "query($id: ID!) { node(id: $id) { ... on Payment { status } } }",
        variables: { id: paymentId }
      })
    }).then(function (response) { return response.json(); }).then(function (answer) {
      var payment = answer.data && answer.data.node;
      if (payment && payment.status !== "PROCESSING" && payment.status !== "REQUIRES_ACTION") {
        window.location.reload();
        return;
      }
      again();
    }, again);
  };
  window.setTimeout(ask, 1000);
}
