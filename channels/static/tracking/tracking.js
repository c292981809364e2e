// The page works without this: it only stops a second tap from posting a form again while
// the first is on its way (the server ignores a repeated form anyway: same nonce).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.hasAttribute("data-once")) return;
  if (form.getAttribute("data-sent") === "1") {
    event.preventDefault();
    return;
  }
  form.setAttribute("data-sent", "1");
  form.classList.add("sending");
});
