// Pages of a business that takes cards through Stripe. Loaded after Stripe.js (the page's
// PORTAL_STRIPE_JS_URL, allowed by its CSP); served by us. Two jobs:
//  - the payment method form: Stripe.js's card fields; on "Confirm changes" with a new card,
//    our API starts a SetupIntent (startCardSetup), Stripe.js confirms it with the card (and
//    runs 3-D Secure when the bank asks), and the form is sent with only the PaymentMethod id;
//  - the authenticate step: Stripe.js's confirmCardPayment (the bank's window), then the form
//    asks us to settle the payment.
// (A payment still in progress is polled by portal.js.)
// Card numbers never reach our server. Our API is called with the portal session's cookie
// (JSON POSTs to /graphql: a cross-site form cannot send those).
"use strict";

(function () {
  function graphql(query, variables) {
    return fetch("/graphql", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ query: query, variables: variables || {} })
    }).then(function (response) { return response.json(); });
  }

  function say(element, text) {
    if (element) { element.textContent = text; }
  }

  function cardForm(host) {
    if (typeof Stripe !== "function") { return; } // Stripe.js did not load: saved cards only
    var form = host.closest("form");
    var status = document.getElementById("card-status");
    var hidden = document.getElementById("gateway-payment-method");
    var button = form.querySelector("button[type=submit]");
    var newCard = document.getElementById("method-new");
    var stripe = Stripe(host.getAttribute("data-stripe-key"));
    var card = stripe.elements().create("card");
    card.mount(host);
    hidden.value = "";
    card.on("change", function () { if (newCard) { newCard.checked = true; } });
    host.addEventListener("input", function () { if (newCard) { newCard.checked = true; } });

    var busy = false;
    form.addEventListener("submit", function (event) {
      var chosen = form.querySelector("input[name=method]:checked");
      if (!chosen || chosen.value !== "new" || hidden.value) { return; } // a saved card: as is
      event.preventDefault();
      if (busy) { return; }
      busy = true;
      button.disabled = true;
      say(status, host.getAttribute("data-working"));
      var fail = function (text) {
        busy = false;
        button.disabled = false;
        hidden.value = "";
        say(status, text);
      };
      graphql("mutation { startCardSetup { cardSetup { clientSecret } " +
              "userErrors { code message } } }")
        .then(function (answer) {
          var started = answer.data && answer.data.startCardSetup;
          if (!started || !started.cardSetup) {
            var problem = started && started.userErrors[0];
            fail(problem ? problem.message : host.getAttribute("data-unavailable"));
            return null;
          }
          return stripe.confirmCardSetup(started.cardSetup.clientSecret,
                                         { payment_method: { card: card } });
        })
        .then(function (result) {
          if (!result) { return; }
          if (result.error || !result.setupIntent) {
            var why = (result.error && result.error.message) || "";
            fail(host.getAttribute("data-failed") + " " + why);
            return;
          }
          var method = result.setupIntent.payment_method;
          hidden.value = typeof method === "string" ? method : method.id;
          form.submit(); // our server makes the payment with it; no card data is sent
        }, function () { fail(host.getAttribute("data-unavailable")); });
    });
  }

  function authenticate(host) {
    if (typeof Stripe !== "function") { return; }
    var form = host.closest("form");
    var status = document.getElementById("authenticate-status");
    var button = form.querySelector("button[type=submit]");
    var stripe = Stripe(host.getAttribute("data-stripe-key"));
    var secret = host.getAttribute("data-client-secret");
    var running = false;
    var run = function () {
      if (running) { return; }
      running = true;
      button.disabled = true;
      say(status, host.getAttribute("data-working"));
      // Whatever the bank answered (confirmed, failed or the window closed), our server asks
      // Stripe and says what became of the payment.
      stripe.confirmCardPayment(secret).then(function () { form.submit(); },
                                             function () { form.submit(); });
    };
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      run();
    });
    if (host.getAttribute("data-start") === "1") { run(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var element = document.getElementById("card-element");
    if (element) { cardForm(element); }
    var waiting = document.getElementById("authenticate");
    if (waiting) { authenticate(waiting); }
  });
})();
