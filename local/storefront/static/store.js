// The storefront's live part. The page around it is static and cached;
// this script reads everything that changes from the public API, as the
// buyer's browser: the campaign (cacheable), its stock and state (about a
// second old), the server's clock (the Date header) for the countdown, a
// captcha challenge, the claim and its result (a long poll), and the
// buyer's orders or wallet. See api/openapi.yaml for every call.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);

  // Final claim states: nothing changes after them.
  const FINAL = new Set(["settled", "paid", "rejected", "released", "refused"]);
  const WON = new Set(["reserved", "settled", "paid"]);

  const REASONS = {
    sold_out: "Sold out: every unit has gone.",
    limit_reached: "You already have your share of this campaign.",
    not_open: "The campaign was not open at your click.",
    lost: "Not this time.",
  };

  // One buyer on one campaign, for as long as the tab is open.
  const store = {
    id: "",           // the campaign id
    token: "",        // the buyer's JWT
    campaign: null,   // GET /v1/campaigns/{id}
    sku: "",          // the item a sale's click buys
    phase: "setup",   // setup, upcoming, open, closed, sold_out
    skew: 0,          // server clock minus ours, in ms
    challenge: null,  // the captcha being answered
    key: "",          // the click's Idempotency-Key, kept across its retries
    claim: null,      // the last claim: {claim_id, state, …}
    busy: false,      // a click is in flight
    asked: 0,         // when the stock was last asked for (our clock)
  };

  // ---- the API ----------------------------------------------------------

  // call sends one request to the gateway and returns {status, body,
  // headers}; body is the decoded JSON, or null. A network failure is
  // status 0.
  async function call(method, path, { body, headers = {}, auth = true } = {}) {
    const h = { ...headers };
    if (auth && store.token) h.Authorization = "Bearer " + store.token;
    const init = { method, headers: h };
    if (body !== undefined) {
      h["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (err) {
      return { status: 0, body: null, headers: new Headers(), error: err };
    }
    noteClock(res.headers.get("Date"));
    let data = null;
    if ((res.headers.get("Content-Type") || "").startsWith("application/json")) {
      data = await res.json().catch(() => null);
    }
    return { status: res.status, body: data, headers: res.headers };
  }

  // retryAfter is how long a 429 or 503 asks us to wait, in ms.
  function retryAfter(res, fallback = 1000) {
    const ms = Number(res.headers.get("Retry-After-Ms"));
    return ms > 0 ? ms : fallback;
  }

  function errorCode(res) {
    return (res.body && res.body.error && res.body.error.code) || "";
  }

  function errorMessage(res) {
    if (res.status === 0) return "The network is down; retrying.";
    return (res.body && res.body.error && res.body.error.message) || "HTTP " + res.status;
  }

  const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

  // noteClock keeps the server's clock from a Date header (whole seconds,
  // so the middle of its second is the best guess): the countdown is the
  // server's, not the buyer's machine's.
  function noteClock(date) {
    const t = Date.parse(date || "");
    if (!Number.isNaN(t)) store.skew = t + 500 - Date.now();
  }

  const now = () => Date.now() + store.skew;

  // ---- setup: which campaign, which buyer ---------------------------------

  // The campaign comes from ?campaign=, the token from the fragment
  // (#token=, which no server sees) or from the form; the token is kept
  // in this tab's sessionStorage and taken out of the address bar.
  function readLocation() {
    const query = new URLSearchParams(location.search);
    const frag = new URLSearchParams(location.hash.slice(1));
    store.id = query.get("campaign") || frag.get("campaign") || "";
    const token = frag.get("token");
    if (token) {
      sessionStorage.setItem("surge.token", token);
      history.replaceState(null, "", location.pathname + location.search);
    }
    store.token = token || sessionStorage.getItem("surge.token") || "";
  }

  // userOf reads the token's subject for display only: the API checks it.
  function userOf(token) {
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(part)).sub || "";
    } catch {
      return "";
    }
  }

  function showSetup(message) {
    setPhase("setup");
    $("setup").hidden = false;
    $("campaign-id").value = store.id;
    $("token").value = store.token;
    notice(message || "");
  }

  $("setup").addEventListener("submit", (ev) => {
    ev.preventDefault();
    store.token = $("token").value.trim();
    sessionStorage.setItem("surge.token", store.token);
    const id = $("campaign-id").value.trim();
    history.replaceState(null, "", "/?campaign=" + encodeURIComponent(id));
    store.id = id;
    openCampaign();
  });

  // ---- the campaign: static spec, live stock ------------------------------

  async function openCampaign() {
    if (!store.id || !store.token) return showSetup();
    const res = await call("GET", "/v1/campaigns/" + encodeURIComponent(store.id), { auth: false });
    if (res.status !== 200) return showSetup("Campaign " + store.id + ": " + errorMessage(res));
    store.campaign = res.body;
    $("setup").hidden = true;
    $("who").textContent = "Signed in as " + (userOf(store.token) || "?");
    drawCampaign();
    await refreshStock();
    loadMine();
    setInterval(refreshStock, 2000);
    setInterval(tick, 250);
    tick();
  }

  function drawCampaign() {
    const c = store.campaign;
    $("campaign").hidden = false;
    $("kind").textContent = c.kind === "rain" ? "Red-packet rain" : "Flash sale";
    $("title").textContent = c.title || c.id;
    $("grab").textContent = c.kind === "rain" ? "Grab a packet" : "Buy now";
    $("mine-title").textContent = c.kind === "rain" ? "Your wallet" : "Your orders";
    const list = $("items");
    list.replaceChildren();
    if (c.kind === "rain") {
      list.append(item("packet", "¥" + money(c.budget) + " in " + c.packets + " packets", "packet"));
      return;
    }
    for (const it of c.items) list.append(item(it.sku, "¥" + money(it.price), it.sku));
    choose(c.items[0].sku);
  }

  // choose picks the item a sale's click buys (the first one until the
  // buyer clicks another).
  function choose(sku) {
    store.sku = sku;
    for (const li of $("items").children) li.classList.toggle("chosen", li.dataset.sku === sku);
  }

  $("items").addEventListener("click", (ev) => {
    const li = ev.target.closest("li[data-sku]");
    if (li && store.campaign.kind === "sale") choose(li.dataset.sku);
  });

  function item(name, price, sku) {
    const li = document.createElement("li");
    li.dataset.sku = sku;
    li.append(span("sku", name), span("price", price), span("left", ""));
    return li;
  }

  function span(cls, text) {
    const s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    return s;
  }

  const money = (cents) => (cents / 100).toFixed(2);

  // refreshStock reads the live part of the campaign: its state and the
  // units left per SKU.
  async function refreshStock() {
    store.asked = Date.now();
    const res = await call("GET", "/v1/campaigns/" + encodeURIComponent(store.id) + "/stock", { auth: false });
    if (res.status !== 200) return;
    for (const it of res.body.items) {
      const li = document.querySelector('#items li[data-sku="' + CSS.escape(it.sku) + '"]');
      if (li) li.querySelector(".left").textContent = it.remaining > 0 ? it.remaining + " left" : "sold out";
    }
    setPhase(res.body.state);
  }

  // setPhase moves the page to the campaign's state; the sale opens when
  // the API says so, not when our countdown reaches zero.
  function setPhase(phase) {
    if (phase === store.phase) return;
    store.phase = phase;
    document.body.dataset.phase = phase;
    const text = { upcoming: "Starts soon", open: "On sale now", closed: "The campaign has ended", sold_out: "Sold out" };
    $("state").textContent = text[phase] || "";
    if (phase === "open") startBuying();
    if (phase === "closed" || phase === "sold_out") stopBuying();
  }

  // tick draws the countdown to the start (then to the end) on the
  // server's clock.
  function tick() {
    const c = store.campaign;
    const start = Date.parse(c.starts_at);
    const end = Date.parse(c.ends_at);
    const t = now();
    const box = $("countdown");
    if (t < start) {
      box.textContent = "Starts in " + duration(start - t);
      box.dataset.until = "start";
    } else if (store.phase === "upcoming") {
      box.textContent = "Opening…";
      if (Date.now() - store.asked > 500) refreshStock(); // the start has come: ask for the state now
    } else if (t < end && store.phase === "open") {
      box.textContent = "Ends in " + duration(end - t);
      box.dataset.until = "end";
    } else {
      box.textContent = "";
    }
  }

  function duration(ms) {
    const s = Math.ceil(ms / 1000);
    const d = Math.floor(s / 86400);
    const pad = (n) => String(n).padStart(2, "0");
    const hms = pad(Math.floor((s % 86400) / 3600)) + ":" + pad(Math.floor((s % 3600) / 60)) + ":" + pad(s % 60);
    return d > 0 ? d + "d " + hms : hms;
  }

  // ---- the click: captcha, claim, result ----------------------------------

  function startBuying() {
    if (store.claim && !FINAL.has(store.claim.state)) return;
    $("buy").hidden = false;
    if (store.campaign.captcha) {
      newChallenge();
    } else {
      $("grab").disabled = false;
    }
  }

  function stopBuying() {
    $("grab").disabled = true;
    $("answer").disabled = true;
  }

  // newChallenge leases a captcha and shows its image (a presigned URL of
  // the object store).
  async function newChallenge() {
    $("grab").disabled = true;
    for (;;) {
      const res = await call("POST", "/v1/campaigns/" + encodeURIComponent(store.id) + "/challenges");
      if (res.status === 201) {
        store.challenge = res.body;
        $("challenge").hidden = false;
        $("answer-label").hidden = false;
        $("captcha").src = res.body.image_url;
        $("answer").value = "";
        $("answer").disabled = false;
        $("grab").disabled = false;
        $("answer").focus();
        return;
      }
      if (res.status === 409) return setPhase("sold_out");
      if (res.status === 401) return showSetup("Your token was refused: " + errorMessage(res));
      if (res.status !== 0 && res.status !== 429 && res.status !== 503) return notice(errorMessage(res));
      notice(errorMessage(res));
      await sleep(retryAfter(res));
    }
  }

  $("new-challenge").addEventListener("click", () => newChallenge());

  $("claim").addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (!store.busy) grab();
  });

  // grab clicks once: a 202 is a claim to watch; 429 and 503 are retried
  // with the same Idempotency-Key (the same claim, never a second one)
  // after Retry-After; a refused answer gets a new challenge.
  async function grab() {
    store.busy = true;
    $("grab").disabled = true;
    notice("");
    if (!store.key) store.key = randomKey();
    const body = { qty: 1 };
    if (store.campaign.kind === "sale") body.sku = store.sku;
    if (store.campaign.captcha) {
      body.challenge_id = store.challenge ? store.challenge.challenge_id : "";
      body.answer = $("answer").value.trim();
    }
    try {
      for (;;) {
        const res = await call("POST", "/v1/campaigns/" + encodeURIComponent(store.id) + "/claims",
          { body, headers: { "Idempotency-Key": store.key } });
        if (res.status === 202) return await watch(res.body.claim_id);
        if (res.status === 0 || res.status === 429 || res.status === 503) {
          notice("Busy: " + errorMessage(res) + " Trying again.");
          await sleep(retryAfter(res));
          continue;
        }
        return refused(res);
      }
    } finally {
      store.busy = false;
    }
  }

  // refused shows why a click was not taken and what the buyer can do.
  function refused(res) {
    const code = errorCode(res);
    if (code === "sold_out") {
      outcome("lost", REASONS.sold_out);
      return setPhase("sold_out");
    }
    if (res.status === 401) return showSetup("Your token was refused: " + errorMessage(res));
    if (code === "idempotency_key_reused") store.key = "";
    notice(errorMessage(res));
    if (store.campaign.captcha) return newChallenge(); // the challenge is used up
    $("grab").disabled = false;
  }

  // watch follows the claim with the API's long poll until it is final,
  // showing every state it passes through.
  async function watch(claimID) {
    store.claim = { claim_id: claimID, state: "pending" };
    showClaim(store.claim);
    $("buy").hidden = true;
    while (!FINAL.has(store.claim.state)) {
      const res = await call("GET", "/v1/claims/" + encodeURIComponent(claimID) +
        "?wait=25s&state=" + encodeURIComponent(store.claim.state));
      if (res.status !== 200) {
        await sleep(retryAfter(res));
        continue;
      }
      if (res.body.state !== store.claim.state) {
        loadMine();
        refreshStock();
      }
      store.claim = res.body;
      showClaim(store.claim);
    }
    store.key = ""; // a next click is a new claim
    if (!WON.has(store.claim.state) && store.phase === "open") startBuying();
  }

  function showClaim(c) {
    const detail = $("claim-detail");
    detail.textContent = "Claim " + c.claim_id + " · " + c.state;
    if (c.state === "pending") return outcome("pending", "Your click is in. Deciding…");
    if (WON.has(c.state)) {
      const what = store.campaign.kind === "rain" ? "You grabbed a red packet!" : "You got it!";
      outcome("won", what);
      if (c.order_no) detail.textContent = "Order " + c.order_no + " · " + stateText(c.state);
      return;
    }
    if (c.state === "rejected") return outcome("lost", REASONS[c.reason] || "Not taken: " + c.reason + ".");
    if (c.state === "released" || c.state === "releasing") return outcome("lost", "Not paid in time: the units went back on sale.");
    if (c.state === "refused") return outcome("error", "The click did not go through; try again.");
  }

  function stateText(state) {
    return { reserved: "being written", settled: "awaiting payment", paid: "paid" }[state] || state;
  }

  function outcome(kind, text) {
    $("result").hidden = false;
    const p = $("outcome");
    p.dataset.outcome = kind;
    p.textContent = text;
  }

  function notice(text) {
    $("notice").hidden = !text;
    $("notice").textContent = text;
  }

  function randomKey() {
    const b = crypto.getRandomValues(new Uint8Array(16));
    return "store-" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  // ---- the buyer's orders (a sale) or wallet (a rain) ---------------------

  async function loadMine() {
    const rain = store.campaign.kind === "rain";
    const res = await call("GET", rain ? "/v1/wallet" : "/v1/orders");
    if (res.status === 401) return showSetup("Your token was refused: " + errorMessage(res));
    if (res.status !== 200) return;
    const rows = rain ? res.body.entries : res.body.orders;
    $("mine-summary").textContent = rain
      ? "Balance ¥" + money(res.body.balance) + " (¥" + money(res.body.pending) + " pending)"
      : rows.length + " orders: " + res.body.pending + " being written, " +
        (res.body.settled - res.body.paid) + " awaiting payment, " + res.body.paid + " paid";
    const body = document.querySelector("#orders tbody");
    body.replaceChildren(...rows.map(orderRow));
    $("mine").hidden = rows.length === 0;
  }

  function orderRow(o) {
    const tr = document.createElement("tr");
    tr.dataset.order = o.order_no;
    tr.dataset.state = o.state;
    const cell = (cls, text) => {
      const td = document.createElement("td");
      td.className = cls;
      td.textContent = text;
      return td;
    };
    const action = cell("action", "");
    if (o.kind === "sale" && (o.state === "pending" || o.state === "settled") && Date.parse(o.pay_by) > now()) {
      const pay = document.createElement("button");
      pay.type = "button";
      pay.textContent = "Pay";
      pay.addEventListener("click", () => payFor(o.order_no, pay));
      action.append(pay);
    }
    tr.append(cell("order", o.order_no), cell("sku", o.sku), cell("qty", String(o.qty)),
      cell("amount", "¥" + money(o.amount)), cell("state", o.state), action);
    return tr;
  }

  // payFor records the payment of an order (the host application took the
  // money); 409 not_settled is retried after Retry-After.
  async function payFor(orderNo, button) {
    button.disabled = true;
    const key = "pay-" + orderNo;
    for (;;) {
      const res = await call("POST", "/v1/orders/" + encodeURIComponent(orderNo) + "/payment",
        { headers: { "Idempotency-Key": key } });
      const again = res.status === 0 || res.status === 503 || errorCode(res) === "not_settled";
      if (!again) {
        if (res.status !== 200) notice(errorMessage(res));
        if (res.status === 200 && store.claim && store.claim.order_no === orderNo) {
          store.claim.state = "paid";
          showClaim(store.claim);
        }
        return loadMine();
      }
      await sleep(retryAfter(res));
    }
  }

  readLocation();
  openCampaign();
})();
