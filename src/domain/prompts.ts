/** How many earlier messages the AI sees; older context will come from the conversation summary (I13). */
export const HISTORY_WINDOW = 20;
