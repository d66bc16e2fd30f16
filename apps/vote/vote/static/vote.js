// Casts the vote through the JSON API without a reload. Without JavaScript the same form posts normally
// (with its CSRF token), so this file only improves the page. No inline script: the CSP forbids it.
"use strict";

const MESSAGES = {
  429: "Too many votes from your address; please wait a moment.",
  503: "Votes cannot be recorded right now; please try again in a few seconds.",
};
const OFFLINE = "The vote service could not be reached; check your connection and try again.";

function show(id, text) {
  const element = document.getElementById(id);
  element.textContent = text;
  element.hidden = !text;
}

function markChoice(form, option) {
  for (const button of form.querySelectorAll("button[name=option]")) {
    const chosen = button.value === option;
    button.setAttribute("aria-pressed", String(chosen));
    button.classList.toggle("chosen", chosen);
  }
  const strong = document.createElement("strong");
  strong.className = "choice";
  strong.textContent = option;
  document.getElementById("choice-line").replaceChildren(
    "Your vote: ", strong, ". You can change it at any time; the last one counts.",
  );
}

async function refusal(response) {
  // 409 (poll closed) and 400 carry a readable sentence; others get ours, never raw JSON.
  let detail = "";
  try {
    detail = (await response.json()).error || "";
  } catch {
    detail = "";
  }
  if (MESSAGES[response.status]) return MESSAGES[response.status];
  if (response.status === 409 && detail) return detail;
  return `Your vote was not recorded${detail ? ": " + detail : ""}.`;
}

async function cast(form, option) {
  // Buttons stay enabled (disabling would drop the keyboard focus); a second click waits for the first.
  form.setAttribute("aria-busy", "true");
  try {
    const response = await fetch(form.dataset.api, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ option }),
    });
    if (response.status === 202) {
      show("error", "");
      show("notice", `Your vote for ${option} was received.`);
      markChoice(form, option);
    } else {
      show("notice", "");
      show("error", await refusal(response));
    }
  } catch {
    show("notice", "");
    show("error", OFFLINE);
  } finally {
    form.removeAttribute("aria-busy");
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-api]");
  if (!form) return;
  form.addEventListener("submit", (event) => {
    const option = event.submitter && event.submitter.value;
    if (!option) return;
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return;
    cast(form, option);
  });
});
