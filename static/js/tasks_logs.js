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
  const FINISHED = ["succeeded", "failed"];

  function unfinishedRows() {
    return body.querySelectorAll("tr[data-state='queued'], tr[data-state='running']");
  }

  // The message that announced a job ("… rows queued … Its progress is below.", tagged
  // task-<id> by the view) turns into the job's result once it has finished.
  function reportResult(row) {
    const message = document.querySelector(`.alert[data-message-tags~="task-${row.dataset.id}"]`);
    if (!message || !FINISHED.includes(row.dataset.state)) return;
    const failed = row.dataset.state === "failed";
    message.classList.remove("alert-success", "alert-info", "alert-warning");
    message.classList.add(failed ? "alert-danger" : "alert-success");
    message.replaceChildren(document.createTextNode(row.dataset.result), ...message.querySelectorAll(".btn-close"));
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
        reportResult(row);
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

  // A job that finished before the page loaded: its message says the result at once.
  body.querySelectorAll("tr[data-id]").forEach(reportResult);
  setTimeout(poll, EVERY_MS);
})();
