// Live updates: when the gateway journals something, reload the page (the page itself is
// complete without this script). Nothing is sent to the server but the stream request.
(function () {
  if (!window.EventSource) return;
  var source = new EventSource("/events/stream");
  var pending = null;
  source.addEventListener("journal", function () {
    if (pending) return;
    pending = setTimeout(function () { window.location.reload(); }, 300);
  });
})();
