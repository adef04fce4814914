// The legacy point-read page, as the original system's page worked: a text box with the JSON message, a Send
// button and a history of what was sent (发送) and received (接收). It sends the text exactly as typed, so the
// legacy ClickToCopy message reaches the relay unchanged.
import { relaySocketUrl } from './connection.js';
import { applyLabels, language, t, toggleLanguage } from './i18n.js';

/** History entries kept; older ones are dropped. */
const MAX_HISTORY = 200;

const $ = (id) => document.getElementById(id);
let socket;
let retryMs = 500;

function setStatus(status) {
  const el = $('status');
  el.dataset.state = status;
  el.dataset.i18n = status;
  el.textContent = t(status);
}

function connect() {
  setStatus('connecting');
  const ws = new WebSocket(relaySocketUrl());
  socket = ws;
  ws.addEventListener('open', () => {
    retryMs = 500;
    setStatus('connected');
  });
  ws.addEventListener('message', (event) => addHistory('received', String(event.data)));
  ws.addEventListener('close', () => {
    if (socket !== ws) return;
    setStatus('disconnected');
    setTimeout(connect, retryMs);
    retryMs = Math.min(5000, retryMs * 2);
  });
}

function addHistory(kind, text) {
  const li = document.createElement('li');
  li.className = kind;
  const label = document.createElement('strong');
  label.dataset.i18n = kind;
  label.textContent = t(kind);
  const body = document.createElement('code');
  body.textContent = text;
  li.append(label, ' ', body);
  const list = $('messagehistory');
  list.append(li);
  while (list.childElementCount > MAX_HISTORY) list.firstElementChild.remove();
}

applyLabels();
$('lang').addEventListener('click', () => toggleLanguage(updateConsoleLink));
$('sse').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $('msg').value;
  if (!socket || socket.readyState !== WebSocket.OPEN) return;
  socket.send(text);
  addHistory('sent', text);
});

function updateConsoleLink() {
  const params = new URLSearchParams(location.search);
  params.set('lang', language());
  $('console-link').href = `/?${params}`;
}
updateConsoleLink();
connect();
