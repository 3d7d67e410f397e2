// Bytes on the wire for the page and everything it loaded (a first visit: nothing cached).
(() => {
  const all = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
  return [all.length, all.reduce((n, e) => n + (e.transferSize || e.encodedBodySize || 0), 0)];
})
