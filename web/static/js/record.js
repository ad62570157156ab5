// The meeting record page: while a composition job is queued or running, follow its
// progress and reload the page once it has finished.

const POLL_MS = 3000;
const root = document.getElementById("record-page");

async function poll() {
  try {
    const response = await fetch(`/api/meetings/${encodeURIComponent(root.dataset.meetingId)}/compose-jobs`,
      { credentials: "same-origin" });
    if (!response.ok) return;
    const jobs = await response.json();
    const last = jobs[jobs.length - 1];
    if (!last) return;
    if (last.status !== root.dataset.jobStatus || last.status === "running") {
      const bar = document.querySelector("[data-testid=compose-progress]");
      if (last.status === "running" && bar && root.dataset.jobStatus === "running") {
        bar.value = last.percent;
      } else {
        location.reload();
        return;
      }
    }
  } catch (err) {
    // The server is restarting; try again at the next tick.
  }
  setTimeout(poll, POLL_MS);
}

if (root && ["queued", "running"].includes(root.dataset.jobStatus)) setTimeout(poll, POLL_MS);
