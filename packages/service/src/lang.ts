/** The languages the lab speaks to a learner. Log lines and error codes stay as they are. */
export type Lang = "en" | "ja";

/**
 * The learner's language: Japanese when LAB_LANG=ja, or (with LAB_LANG unset) when the system
 * locale is Japanese (LC_ALL, LC_MESSAGES, LANG, or what Node's Intl reports); English otherwise.
 */
export function chooseLang(env: Record<string, string | undefined> = process.env, intlLocale = Intl.DateTimeFormat().resolvedOptions().locale): Lang {
  const asked = env.LAB_LANG?.trim().toLowerCase();
  if (asked) return asked.startsWith("ja") ? "ja" : "en";
  const locale = env.LC_ALL || env.LC_MESSAGES || env.LANG || intlLocale || "";
  return /^ja([_-]|$)/i.test(locale) ? "ja" : "en";
}
