// A clock one day behind, installed before the page loads (Page.addScriptToEvaluateOnNewDocument)
// like the navigator.usb and speechSynthesis stand-ins: `Date.now()` and `new Date()` read
// yesterday, so that one browser can be "the counter yesterday" against a real bridge.
(() => {
  const shift = -86400000;
  const RealDate = Date;
  class Yesterday extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + shift);
      else super(...args);
    }
    static now() { return RealDate.now() + shift; }
  }
  globalThis.Date = Yesterday;
})();
