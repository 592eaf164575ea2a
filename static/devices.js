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
