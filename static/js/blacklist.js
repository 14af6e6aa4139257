// Blacklists Management tabs: confirm irreversible actions (data-confirm), the list picker, which shows the list
// chosen (data-submit-on-change; its Show button does it without scripts), and the selection of the bulk bar.
document.addEventListener("submit", (event) => {
  const question = event.submitter && event.submitter.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

document.addEventListener("change", (event) => {
  if (event.target.matches("[data-submit-on-change]")) event.target.form.requestSubmit();
});

// The selection: ticking rows makes "Selected (N)" the scope, un-ticking them all gives back the scope chosen
// before; "2 of 25 selected" beside the actions; the header box is ticked, empty or in between; once the whole
// page is ticked, a banner offers every number matching the filter (the "all" scope). The server still says so
// when a scope takes in more than the ticked rows (views._acts_beyond_ticks), with or without this script.
const bulkForm = document.getElementById("bulk-form");
const scope = document.getElementById("bulk-scope");
if (bulkForm && scope) {
  const header = document.getElementById("select-page");
  const rowBoxes = [...bulkForm.querySelectorAll('input[type=checkbox][name="ids"]')];
  const counter = document.getElementById("selection-count");
  const banner = document.getElementById("select-banner");
  const bannerText = document.getElementById("select-banner-text");
  const selectMatching = document.getElementById("select-matching");
  const selectedOption = scope.querySelector('option[value="selected"]');
  let scopeBeforeTicks = scope.value;

  const show = () => {
    const ticked = rowBoxes.filter((box) => box.checked).length;
    selectedOption.textContent = `Selected (${ticked})`;
    counter.textContent = ticked ? `${ticked} of ${rowBoxes.length} selected` : "";
    if (header) {
      header.checked = ticked > 0 && ticked === rowBoxes.length;
      header.indeterminate = ticked > 0 && ticked < rowBoxes.length;
    }
    const wholePage = ticked > 0 && ticked === rowBoxes.length;
    banner.hidden = !wholePage;
    const allMatching = wholePage && scope.value === "all";
    bannerText.textContent = allMatching ? bannerText.dataset.matchingText : bannerText.dataset.pageText;
    if (selectMatching) selectMatching.hidden = allMatching;
  };

  // Rows ticked by hand or by the header: the scope follows the ticks.
  const ticksChanged = () => {
    const ticked = rowBoxes.some((box) => box.checked);
    if (ticked && scope.value !== "selected") {
      scopeBeforeTicks = scope.value;
      scope.value = "selected";
    } else if (!ticked) {
      scope.value = scopeBeforeTicks;
    }
    show();
  };

  bulkForm.addEventListener("change", (event) => {
    if (event.target === header) {
      rowBoxes.forEach((box) => { box.checked = header.checked; });
      ticksChanged();
    } else if (rowBoxes.includes(event.target)) {
      ticksChanged();
    } else if (event.target === scope) {
      show();
    }
  });
  if (selectMatching) {
    selectMatching.addEventListener("click", () => {
      scope.value = "all";
      show();
      scope.focus();
    });
  }
  document.getElementById("clear-selection").addEventListener("click", () => {
    rowBoxes.forEach((box) => { box.checked = false; });
    ticksChanged();
    (header || scope).focus();
  });

  // The selection and the chosen action outlive a cancelled confirmation or a refusal: kept for this page's
  // address when the form is sent, given back when the page comes back without the action having run.
  const params = new URLSearchParams(window.location.search);
  params.sort();
  const key = `bulk-selection:${window.location.pathname}?${params}`;
  bulkForm.addEventListener("submit", (event) => {
    if (event.defaultPrevented) return;
    const ids = rowBoxes.filter((box) => box.checked).map((box) => box.value);
    const action = bulkForm.elements.action.value;
    sessionStorage.setItem(key, JSON.stringify({ ids, action, scope: scope.value }));
  });
  const kept = JSON.parse(sessionStorage.getItem(key) || "null");
  sessionStorage.removeItem(key);
  if (kept && !document.querySelector(".bulk-bar [data-done]")) {
    rowBoxes.forEach((box) => { box.checked = kept.ids.includes(box.value); });
    bulkForm.elements.action.value = kept.action;
    ticksChanged();
    scope.value = kept.scope;
  }
  show();
}
