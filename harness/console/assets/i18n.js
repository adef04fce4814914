// Labels of the console and the legacy page in English and Chinese (the users read both), and the switch
// between them. An element names its label with data-i18n (text), data-i18n-placeholder or data-i18n-title.

/** label key → { en, zh } */
export const LABELS = {
  title: { en: 'meterlab console', zh: 'meterlab 控制台' },
  language: { en: '中文', zh: 'English' },
  legacyPage: { en: 'Legacy page', zh: '旧版页面' },
  consolePage: { en: 'Console', zh: '控制台' },
  connected: { en: 'connected', zh: '已连接' },
  connecting: { en: 'connecting…', zh: '正在连接…' },
  disconnected: { en: 'disconnected — retrying', zh: '连接断开，正在重试' },
  concentrators: { en: 'Concentrators', zh: '集中器' },
  online: { en: 'online', zh: '在线' },
  offline: { en: 'offline', zh: '离线' },
  meters: { en: 'Meters', zh: '表计' },
  withValve: { en: 'with valve', zh: '带阀门' },
  search: { en: 'Search concentrator or meter…', zh: '搜索集中器或表号…' },
  fleet: { en: 'Fleet', zh: '档案' },
  port: { en: 'Port', zh: '端口' },
  lastHeartbeat: { en: 'last heard', zh: '最近心跳' },
  never: { en: 'never', zh: '从未' },
  readAll: { en: 'Read all', zh: '全部点抄' },
  readFleet: { en: 'Read whole fleet', zh: '全部集中器点抄' },
  stop: { en: 'Stop', zh: '停止' },
  meter: { en: 'Meter', zh: '表计' },
  pickMeter: { en: 'Click a meter in the fleet to read it.', zh: '在左侧档案中点击表计即可点抄。' },
  read: { en: 'Read', zh: '点抄' },
  reading: { en: 'reading…', zh: '正在点抄…' },
  valveOpen: { en: 'Open valve', zh: '开阀' },
  valveClose: { en: 'Close valve', zh: '关阀' },
  value: { en: 'Value', zh: '累计读数' },
  unit: { en: 'Unit', zh: '单位' },
  meterTime: { en: 'Meter time', zh: '表内时间' },
  valve: { en: 'Valve', zh: '阀门' },
  battery: { en: 'Battery', zh: '电池' },
  batteryLow: { en: 'low', zh: '欠压' },
  batteryOk: { en: 'ok', zh: '正常' },
  latency: { en: 'Latency', zh: '耗时' },
  readAt: { en: 'Read at', zh: '抄读时间' },
  protocol: { en: 'Protocol', zh: '协议' },
  kind: { en: 'Kind', zh: '类型' },
  error: { en: 'Error', zh: '错误' },
  'kind:cold-water': { en: 'cold water', zh: '冷水表' },
  'kind:hot-water': { en: 'hot water', zh: '热水表' },
  'kind:gas': { en: 'gas', zh: '燃气表' },
  'kind:heat': { en: 'heat', zh: '热量表' },
  'kind:electricity': { en: 'electricity', zh: '电能表' },
  detail: { en: 'Detail', zh: '详情' },
  open: { en: 'open', zh: '开' },
  closed: { en: 'closed', zh: '关' },
  abnormal: { en: 'abnormal', zh: '异常' },
  noValve: { en: 'no valve', zh: '无阀门' },
  results: { en: 'Read-all results', zh: '批量点抄结果' },
  progress: { en: 'Progress', zh: '进度' },
  concentrator: { en: 'Concentrator', zh: '集中器' },
  result: { en: 'Result', zh: '结果' },
  ok: { en: 'ok', zh: '成功' },
  failed: { en: 'failed', zh: '失败' },
  pending: { en: 'waiting', zh: '等待' },
  cancel: { en: 'Cancel', zh: '取消' },
  cancelHint: {
    en: 'Cancel this read: it is withdrawn, and not sent to the meter unless it has already gone',
    zh: '取消本次点抄：请求将被撤回，尚未下发的不再发往表计',
  },
  cancelled: { en: 'cancelled', zh: '已取消' },
  readCancelled: {
    en: 'You cancelled this read: it was withdrawn (not sent to the meter unless it had already gone).',
    zh: '点抄已取消：请求已撤回（已下发到表计的除外）。',
  },
  noResults: {
    en: 'No read-all yet: use "Read all" on a concentrator, or read the whole fleet.',
    zh: '尚未批量点抄：点击集中器的“全部点抄”，或全部集中器点抄。',
  },
  rowsCut: { en: 'rows shown', zh: '行已显示' },
  latencyChart: { en: 'Latency of recent reads (ms)', zh: '最近点抄耗时（毫秒）' },
  frameLog: { en: 'Frame log', zh: '报文日志' },
  filterConcentrator: { en: 'concentrator', zh: '集中器' },
  filterMeter: { en: 'meter', zh: '表号' },
  apply: { en: 'Filter', zh: '筛选' },
  pause: { en: 'Pause', zh: '暂停' },
  resume: { en: 'Resume', zh: '继续' },
  clear: { en: 'Clear', zh: '清空' },
  framesShown: { en: 'frames shown', zh: '条报文' },
  waitingWhilePaused: { en: 'waiting', zh: '条待显示' },
  streamClosed: { en: 'frame stream closed', zh: '报文订阅已关闭' },
  hexHint: { en: 'click a line for its bytes', zh: '点击一行查看报文字节' },
  send: { en: 'Send', zh: '发送' },
  sent: { en: 'sent', zh: '发送' },
  received: { en: 'received', zh: '接收' },
  history: { en: 'History', zh: '历史' },
  legacyTitle: { en: 'meterlab — legacy point-read page', zh: 'meterlab — 旧版点抄页面' },
  legacyHint: {
    en: 'The page of the original system: send the JSON message, read the answer below.',
    zh: '与原系统相同的页面：发送 JSON 消息，应答显示在下方。',
  },
};

const STORE_KEY = 'meterlab.lang';
let current = pickLanguage();

function pickLanguage() {
  const asked = new URLSearchParams(location.search).get('lang');
  if (asked === 'zh' || asked === 'en') return asked;
  try {
    const stored = localStorage.getItem(STORE_KEY);
    if (stored === 'zh' || stored === 'en') return stored;
  } catch {
    // storage may be disabled; the browser's language decides then
  }
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

/** The current language, 'en' or 'zh'. */
export function language() {
  return current;
}

/** The label `key` in the current language (the key itself when there is no such label: a visible bug). */
export function t(key) {
  const label = LABELS[key];
  return label ? label[current] : key;
}

/** Writes every labelled element under `root` in the current language. */
export function applyLabels(root = document) {
  document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
}

/** Switches language, remembers it, relabels the page and tells `onChange`. */
export function toggleLanguage(onChange) {
  current = current === 'zh' ? 'en' : 'zh';
  try {
    localStorage.setItem(STORE_KEY, current);
  } catch {
    // not remembered; the switch still applies to this page
  }
  applyLabels();
  onChange?.();
}
