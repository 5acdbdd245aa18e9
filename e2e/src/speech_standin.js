// A stand-in for the Web Speech API's speechSynthesis, installed before the page loads
// (Page.addScriptToEvaluateOnNewDocument) like the navigator.usb one: it records what the
// page asks to be spoken — the text and the language — in window.__spoken, and each
// cancel(), so that a test can read back exactly what a patient would have heard.
(() => {
  const spoken = [];
  Object.defineProperty(window, "__spoken", { value: spoken });
  class Utterance {
    constructor(text) { this.text = String(text ?? ""); this.lang = ""; this.rate = 1; }
  }
  const synthesis = {
    speaking: false,
    pending: false,
    paused: false,
    speak(u) { spoken.push({ text: u.text, lang: u.lang }); },
    cancel() { spoken.push({ cancel: true }); },
    getVoices() { return []; },
    pause() {},
    resume() {},
  };
  Object.defineProperty(window, "SpeechSynthesisUtterance", { value: Utterance, configurable: true, writable: true });
  Object.defineProperty(window, "speechSynthesis", { value: synthesis, configurable: true });
})();
