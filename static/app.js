// paytr-checkout's only script, served from /static/app.js (CSP: script-src 'self').
// Progressive enhancement: every form works without it. It never sends anything anywhere:
// the card form still posts straight to PayTR.
document.querySelectorAll('form[data-autosubmit]').forEach(function (f) { f.submit(); });

document.querySelectorAll('input[data-digits]').forEach(function (i) {
  if (i.form && i.form.hasAttribute('data-card-form')) { return; }
  i.addEventListener('input', function () {
    var digits = i.value.replace(/[^0-9]/g, '');
    if (digits !== i.value) { i.value = digits; }
  });
});

(function () {
  var form = document.querySelector('form[data-card-form]');
  if (!form) { return; }
  var field = function (name) { return form.elements.namedItem(name); };
  var number = field('card_number'), month = field('expiry_month'), year = field('expiry_year'),
      cvv = field('cvv'), owner = field('cc_owner');
  var brandLabel = document.getElementById('card-brand');
  var digitsOf = function (value) { return value.replace(/[^0-9]/g, ''); };

  function brand(digits) {
    if (/^4/.test(digits)) { return 'visa'; }
    if (/^(5[1-5]|2[2-7])/.test(digits)) { return 'mastercard'; }
    if (/^3[47]/.test(digits)) { return 'amex'; }
    if (/^9792/.test(digits)) { return 'troy'; }
    return '';
  }
  var names = { visa: 'VISA', mastercard: 'Mastercard', amex: 'American Express', troy: 'TROY' };

  function luhn(digits) {
    var sum = 0;
    for (var i = 0; i < digits.length; i++) {
      var d = +digits[digits.length - 1 - i];
      if (i % 2 === 1) { d *= 2; if (d > 9) { d -= 9; } }
      sum += d;
    }
    return digits.length >= 12 && sum % 10 === 0;
  }

  // The browser's own checks (pattern, maxlength) are for visitors without this script.
  form.noValidate = true;
  number.removeAttribute('pattern');
  number.maxLength = 23;
  year.removeAttribute('pattern');
  year.maxLength = 4;

  number.addEventListener('input', function () {
    var digits = digitsOf(number.value).slice(0, 19);
    var kind = brand(digits);
    var groups = kind === 'amex' ? [4, 6, 5] : [4, 4, 4, 4, 3];
    var parts = [], at = 0;
    for (var g = 0; g < groups.length && at < digits.length; g++) {
      parts.push(digits.slice(at, at + groups[g]));
      at += groups[g];
    }
    number.value = parts.join(' ');
    if (brandLabel) { brandLabel.textContent = names[kind] || ''; }
    cvv.maxLength = kind === 'amex' ? 4 : 3;
  });
  [month, year, cvv].forEach(function (input) {
    input.addEventListener('input', function () {
      var digits = digitsOf(input.value);
      if (digits !== input.value) { input.value = digits; }
    });
  });

  function show(input, message) {
    var error = document.getElementById(input.id + '-error');
    if (error) { error.textContent = message || ''; error.hidden = !message; }
    if (message) { input.setAttribute('aria-invalid', 'true'); } else { input.removeAttribute('aria-invalid'); }
    return !message;
  }

  form.addEventListener('submit', function (event) {
    var msg = function (key) { return form.getAttribute('data-err-' + key); };
    var digits = digitsOf(number.value);
    var kind = brand(digits);
    var m = parseInt(month.value, 10);
    var y = digitsOf(year.value);
    if (y.length === 4) { y = y.slice(2); }
    var now = new Date();
    var thisYear = now.getFullYear() % 100, thisMonth = now.getMonth() + 1;
    var expired = y.length === 2 && m >= 1 && m <= 12 &&
      (+y < thisYear || (+y === thisYear && m < thisMonth));
    var wantCvv = kind === 'amex' ? 4 : 3;
    var ok = [
      show(owner, owner.value.trim() ? '' : msg('owner')),
      show(number, luhn(digits) ? '' : msg('number')),
      show(month, m >= 1 && m <= 12 ? '' : msg('month')),
      show(year, y.length !== 2 ? msg('year') : expired ? msg('expired') : ''),
      show(cvv, digitsOf(cvv.value).length === wantCvv ? '' : msg('cvv'))
    ];
    var first = [owner, number, month, year, cvv].filter(function (_, i) { return !ok[i]; })[0];
    if (first) {
      event.preventDefault();
      first.focus();
      return;
    }
    // What PayTR expects: digits only, a two-digit month and year.
    number.value = digits;
    month.value = (m < 10 ? '0' : '') + m;
    year.value = y;
  });
})();

// The order page after PayTR's redirect waits for PayTR's notification: it asks again every 2
// seconds for a minute (the page reloads once the answer is in), then stops and explains.
(function () {
  var wait = document.querySelector('[data-poll]');
  if (!wait || !window.fetch) { return; }
  var tries = 0;
  var timer = setInterval(function () {
    tries += 1;
    if (tries > 30) {
      clearInterval(timer);
      var slow = document.getElementById('order-wait-slow');
      if (slow) { slow.hidden = false; }
      return;
    }
    fetch(location.href, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        if (html.indexOf('id="order-wait"') === -1) { clearInterval(timer); location.reload(); }
      })
      .catch(function () {});
  }, 2000);
})();

// A form the server sent back with errors: focus moves to the first field it marked invalid.
(function () {
  var first = document.querySelector('form [aria-invalid="true"]');
  if (first) { first.focus(); }
})();

// A receipt's print button (shown only when this script runs).
document.querySelectorAll('[data-print]').forEach(function (b) {
  b.hidden = false;
  b.addEventListener('click', function () { window.print(); });
});

// Saved cards: the primary button names the selected card ("Pay 305,50 TL with •••• 4358").
(function () {
  var button = document.getElementById('pay-saved');
  if (!button) { return; }
  document.querySelectorAll('input[name="card"][data-last4]').forEach(function (radio) {
    radio.addEventListener('change', function () {
      button.textContent = button.getAttribute('data-template')
        .replace('{amount}', button.getAttribute('data-amount'))
        .replace('{last4}', radio.getAttribute('data-last4'));
    });
  });
})();

// Installments: once 6 digits of the number are typed, only those 6 are sent to our server,
// which answers the options with the fields of a form it signed for each; choosing one puts
// those fields in the card form. Without this script the payment is a single payment.
(function () {
  var box = document.getElementById('installments');
  var form = document.querySelector('form[data-card-form]');
  if (!box || !form || !window.fetch) { return; }
  var number = form.elements.namedItem('card_number');
  var list = document.getElementById('installment-options');
  var bank = document.getElementById('installments-bank');
  var button = document.getElementById('pay-submit');
  var asked = '';
  var single = {};
  ['payment_amount', 'installment_count', 'paytr_token'].forEach(function (name) {
    var input = form.querySelector('input[type=hidden][name="' + name + '"]');
    if (input) { single[name] = input.value; }
  });
  var buttonText = button ? button.textContent : '';
  function reset() {
    box.hidden = true;
    Object.keys(single).forEach(function (name) { hidden(name, single[name]); });
    var type = form.querySelector('input[type=hidden][name="card_type"]');
    if (type) { type.remove(); }
    if (button) { button.textContent = buttonText; }
  }
  function hidden(name, value) {
    var input = form.querySelector('input[type=hidden][name="' + name + '"]');
    if (!input) {
      input = document.createElement('input');
      input.type = 'hidden';
      input.name = name;
      form.appendChild(input);
    }
    input.value = value;
  }
  function choose(option) {
    Object.keys(option.fields).forEach(function (name) { hidden(name, option.fields[name]); });
    if (button) { button.textContent = box.getAttribute('data-pay') + ' ' + option.total; }
  }
  function show(answer) {
    list.textContent = '';
    var options = answer.options || [];
    if (options.length < 2) { reset(); return; }
    bank.textContent = answer.bank ? '· ' + answer.bank : '';
    options.forEach(function (option, i) {
      var label = document.createElement('label');
      label.className = 'saved-card';
      var radio = document.createElement('input');
      radio.type = 'radio';
      radio.name = 'installment_choice';
      radio.id = 'installment-' + option.count;
      radio.checked = i === 0;
      radio.addEventListener('change', function () { choose(option); });
      label.appendChild(radio);
      label.appendChild(document.createTextNode(' ' + option.label));
      list.appendChild(label);
    });
    box.hidden = false;
    choose(options[0]);
  }
  number.addEventListener('input', function () {
    var bin = number.value.replace(/[^0-9]/g, '').slice(0, 6);
    if (bin.length < 6) { if (asked) { reset(); } asked = ''; return; }
    if (bin === asked) { return; }
    asked = bin;
    var body = 'csrf_token=' + encodeURIComponent(box.getAttribute('data-csrf')) + '&bin=' + bin;
    fetch(box.getAttribute('data-url'), {
      method: 'POST', credentials: 'same-origin', body: body,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' }
    }).then(function (r) { return r.ok ? r.json() : { options: [] }; })
      .then(function (answer) { if (asked === bin) { show(answer); } })
      .catch(reset);
  });
})();
