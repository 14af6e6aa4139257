// Live progress on Tasks Logs and a task's page: while a row shows a queued or running job,
// fetch those rows again every second (tasks_logs:rows renders them with the page's own row
// template) and swap them in. Polling stops when nothing runs; a task's page then reloads once
// to show its final counts and rejected rows.
(function () {
  const body = document.querySelector("tbody[data-rows-url]");
  if (!body) return;
  const url = body.dataset.rowsUrl;
  const reloadWhenDone = body.closest("[data-reload-when-done]") !== null;
  const EVERY_MS = 1000;

  function unfinishedRows() {
    return body.querySelectorAll("tr[data-state='queued'], tr[data-state='running']");
  }

  async function poll() {
    const rows = unfinishedRows();
    if (rows.length === 0) return;
    const query = new URLSearchParams();
    rows.forEach((row) => query.append("id", row.dataset.id));
    try {
      const response = await fetch(`${url}?${query}`, { headers: { Accept: "text/html" } });
      if (response.redirected || !response.ok) return; // logged out, or the server is gone: stop
      const fresh = document.createElement("template");
      fresh.innerHTML = await response.text();
      fresh.content.querySelectorAll("tr[data-id]").forEach((row) => {
        body.querySelector(`tr[data-id="${row.dataset.id}"]`)?.replaceWith(row);
      });
    } catch (error) {
      // A network blip: try again at the next tick.
    }
    if (unfinishedRows().length) {
      setTimeout(poll, EVERY_MS);
    } else if (reloadWhenDone) {
      window.location.reload();
    }
  }

  setTimeout(poll, EVERY_MS);
})();
