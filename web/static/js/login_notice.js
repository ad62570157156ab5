// The sign-in page warns, before anyone signs in, when its address is not secure:
// meetings opened from it would have no camera or microphone.

const notice = document.getElementById("insecure-context");
if (notice && !window.isSecureContext) notice.hidden = false;
