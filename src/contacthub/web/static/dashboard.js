// Progressive enhancement only: every page works without this file.
"use strict";

// Search as you type: the list's own GET form, fetched as a fragment after a pause in typing.
function enhanceSearch() {
  const form = document.getElementById("search");
  const results = document.getElementById("results");
  if (!form || !results) return;
  const input = form.querySelector("input[name=q]");
  let timer = null;
  let inFlight = null;
  async function refresh() {
    const query = new URLSearchParams({ q: input.value });
    if (inFlight) inFlight.abort();
    inFlight = new AbortController();
    try {
      const answer = await fetch("/?" + query + "&partial=1", { signal: inFlight.signal });
      if (answer.redirected || !answer.headers.get("content-type")?.startsWith("text/html")) {
        form.submit();
        return;
      }
      results.innerHTML = await answer.text();
      history.replaceState(null, "", input.value ? "/?" + query : "/");
    } catch (error) {
      if (error.name !== "AbortError") form.submit();
    }
  }
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    refresh();
  });
}

enhanceSearch();
