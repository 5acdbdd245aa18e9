// A navigator.usb stand-in for browser tests, installed before the page loads
// (Page.addScriptToEvaluateOnNewDocument). Its one device forwards bulk transfers to the
// bridge's simulated Sony reader (`serve --simulate-usb-reader MODEL:PERSON`), so the
// real drivers, ISO-DEP and the Leptos UI run; only the USB wire is simulated.
(() => {
  const post = async (what, body) => {
    const r = await fetch("/dev/usb/" + what, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body || {}),
    });
    if (!r.ok) throw new DOMException("simulated reader: " + (await r.text()), "NetworkError");
    return r.json();
  };
  const hex = (u8) => Array.from(u8, (b) => b.toString(16).padStart(2, "0")).join("");
  const unhex = (s) => new Uint8Array((s.match(/../g) || []).map((h) => parseInt(h, 16)));
  let device = null;
  const makeDevice = (info) => ({
    vendorId: info.vendor_id,
    productId: info.product_id,
    productName: "Simulated PaSoRi",
    opened: false,
    configuration: null,
    async open() { this.opened = true; },
    async close() { this.opened = false; },
    async selectConfiguration(n) { this.configuration = { configurationValue: n }; },
    async claimInterface() {},
    async releaseInterface() {},
    async transferOut(endpoint, data) {
      // Copy before any await: the bytes may be a view of wasm memory.
      const u8 = new Uint8Array(data.buffer ? data.buffer.slice(data.byteOffset || 0, (data.byteOffset || 0) + data.byteLength) : data);
      await post("out", { data: hex(u8) });
      return { status: "ok", bytesWritten: u8.length };
    },
    async transferIn() {
      for (let i = 0; i < 100; i++) {
        const r = await post("in");
        if (r.data) {
          const u8 = unhex(r.data);
          return { status: "ok", data: new DataView(u8.buffer) };
        }
        await new Promise((done) => setTimeout(done, 5));
      }
      throw new DOMException("timeout", "TimeoutError");
    },
  });
  const usb = new EventTarget();
  let granted = false;
  usb.onconnect = null;
  usb.ondisconnect = null;
  usb.requestDevice = async () => {
    device = device || makeDevice(await post("info"));
    granted = true;
    return device;
  };
  usb.getDevices = async () => (granted && device ? [device] : []);
  Object.defineProperty(navigator, "usb", { value: usb, configurable: true });
})();
