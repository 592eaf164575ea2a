// Times as people read them: "just now", "5 min ago", "yesterday", "12 Mar"; the full date
// in the element's title and its machine-readable form in <time datetime>.

const MINUTE = 60;
const HOUR = 60 * MINUTE;

const startOfDay = (date) => new Date(date.getFullYear(), date.getMonth(), date.getDate());

/** A short relative time; older than a week, the date (with the year if not this one). */
export function ago(iso, now = new Date()) {
  const then = new Date(iso);
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  if (seconds < MINUTE) return "just now";
  if (seconds < HOUR) return `${Math.floor(seconds / MINUTE)} min ago`;
  const days = Math.round((startOfDay(now) - startOfDay(then)) / (24 * HOUR * 1000));
  if (days === 0) return `${Math.floor(seconds / HOUR)} h ago`;
  if (days === 1) return "yesterday";
  if (days < 7) return `${days} days ago`;
  const sameYear = then.getFullYear() === now.getFullYear();
  return then.toLocaleDateString(undefined,
    sameYear ? { day: "numeric", month: "short" } : { day: "numeric", month: "short", year: "numeric" });
}

/** <time datetime="…" title="full date">5 min ago</time>, kept current by `refreshTimes`. */
export function timeElement(iso) {
  const node = document.createElement("time");
  node.dateTime = iso;
  node.title = new Date(iso).toLocaleString();
  node.textContent = ago(iso);
  return node;
}

/** Every shown relative time again ("just now" becomes "1 min ago"). */
export function refreshTimes(root = document) {
  for (const node of root.querySelectorAll("time[datetime]")) node.textContent = ago(node.dateTime);
}
