// The evidence record's Print button (no inline handlers: Content-Security-Policy script-src 'self').
document.getElementById("print-record")?.addEventListener("click", () => window.print());
