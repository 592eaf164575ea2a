// What a person calls a device: browser and system in words, from a User-Agent string.

const BROWSERS = [
  [/Edg\//, "Edge"], [/OPR\//, "Opera"], [/Firefox\//, "Firefox"],
  [/Chrom(e|ium)\//, "Chrome"], [/Safari\//, "Safari"],
];
const SYSTEMS = [
  [/iPhone/, "iPhone"], [/iPad/, "iPad"], [/Android/, "Android"], [/Windows/, "Windows"],
  [/Mac OS X|Macintosh/, "macOS"], [/CrOS/, "ChromeOS"], [/Linux/, "Linux"],
];

const first = (table, text) => (table.find(([pattern]) => pattern.test(text)) || [])[1];

/** "Chrome on Linux", "Safari on iPhone", or "Unknown device" (a script, a test client). */
export function deviceName(agent) {
  const browser = first(BROWSERS, agent || "");
  const system = first(SYSTEMS, agent || "");
  if (browser && system) return `${browser} on ${system}`;
  return browser || system || "Unknown device";
}

/** "just now", "2 minutes ago", "3 hours ago", "yesterday", "5 days ago". */
export function ago(iso, now = Date.now()) {
  const seconds = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  const plural = (n, unit) => `${n} ${unit}${n === 1 ? "" : "s"} ago`;
  if (seconds < 60) return "just now";
  if (seconds < 3600) return plural(Math.floor(seconds / 60), "minute");
  if (seconds < 86400) return plural(Math.floor(seconds / 3600), "hour");
  const days = Math.floor(seconds / 86400);
  return days === 1 ? "yesterday" : plural(days, "day");
}
