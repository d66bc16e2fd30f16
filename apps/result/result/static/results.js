// Keeps the results table and its bar chart in step with the server's Server-Sent Events, shows whether the
// page is connected, and reconnects by itself: every new stream starts with the current snapshot, so the
// page catches up after an outage. No inline script: the CSP forbids it.
"use strict";

const RETRY_DELAYS_MS = [1000, 2000, 5000];

function setConnection(state, text) {
  const element = document.getElementById("connection");
  if (element.textContent === text) return; // a live region: repeat nothing to screen readers
  element.dataset.state = state;
  element.textContent = text;
}

function render(snapshot) {
  const rows = document.querySelectorAll("#results tbody tr");
  snapshot.options.forEach((item, index) => {
    const row = rows[index];
    if (!row) return;
    row.querySelector(".label").textContent = item.option;
    row.querySelector(".votes").textContent = String(item.votes);
    row.querySelector(".percent").textContent = `${item.percent.toFixed(1)}%`;
    row.querySelector(".fill").setAttribute("width", String(item.percent));
  });
  document.getElementById("total").textContent = String(snapshot.total);
  const asOf = document.getElementById("as-of");
  asOf.dateTime = snapshot.as_of;
  asOf.textContent = new Date(snapshot.as_of).toLocaleTimeString();
}

function connect(url, attempt) {
  const source = new EventSource(url);
  source.onmessage = (event) => {
    attempt = 0;
    render(JSON.parse(event.data));
    setConnection("live", "Live: updates as votes arrive");
  };
  source.onerror = () => {
    // EventSource gives up for good on an HTTP error (a restarting server's 503): retry ourselves.
    source.close();
    const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)];
    setConnection("reconnecting", `Connection lost; reconnecting in ${delay / 1000} s…`);
    setTimeout(() => connect(url, attempt + 1), delay);
  };
}

document.addEventListener("DOMContentLoaded", () => {
  const asOf = document.getElementById("as-of");
  asOf.textContent = new Date(asOf.dateTime).toLocaleTimeString();
  connect(document.body.dataset.stream, 0);
});
