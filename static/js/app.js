// Keep the current section's tab in view when the nav scrolls sideways on a phone.
(function () {
  var current = document.querySelector(".nav a.on");
  if (current && current.scrollIntoView) {
    current.scrollIntoView({ block: "nearest", inline: "center" });
  }
})();
