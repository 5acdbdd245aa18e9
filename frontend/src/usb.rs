//! The page's own card reader over WebUSB: Sony RC-S380 (Port-100) and RC-S300, the only
//! readers whose interfaces Chrome lets a page claim (CCID-class readers are blocked for
//! web pages and work through the bridge). The drivers and ISO-DEP are `card::reader`;
//! this module is the USB pipe, device choice and the errors a receptionist can act on.
//!
//! It pre-checks a card (holder, certificate, PIN tries left) and never asks for the PIN:
//! a clinic's gateway cannot confirm a card read here (the face-auth reader does), so a
//! VERIFY from the page could only spend a try.

use card::reader::isodep::IsoDep;
use card::reader::port100::Port100;
use card::reader::rcs300::RcS300;
use card::reader::{RfError, UsbPipe};
use card::transport::{Transport, TransportError};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Which Sony reader a device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    Rcs380,
    Rcs300,
}

impl Model {
    pub fn of(vendor: u16, product: u16) -> Option<Model> {
        if vendor != card::reader::port100::VENDOR {
            return None;
        }
        if card::reader::port100::PRODUCTS.contains(&product) {
            Some(Model::Rcs380)
        } else if card::reader::rcs300::PRODUCTS.contains(&product) {
            Some(Model::Rcs300)
        } else {
            None
        }
    }

    /// (interface, bulk OUT endpoint, bulk IN endpoint number).
    fn endpoints(self) -> (u8, u8, u8) {
        match self {
            Model::Rcs380 => (0, 2, 1),
            Model::Rcs300 => (
                card::reader::rcs300::INTERFACE,
                card::reader::rcs300::ENDPOINT,
                card::reader::rcs300::ENDPOINT,
            ),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Model::Rcs380 => "PaSoRi RC-S380",
            Model::Rcs300 => "PaSoRi RC-S300",
        }
    }
}

/// What went wrong, in words staff can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsbError {
    NoWebUsb,
    NoDevice,
    NotSony,
    Busy,
    CardAbsent,
    Card(String),
}

impl std::fmt::Display for UsbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            UsbError::NoWebUsb => "このブラウザはWebUSBに対応していません（iPadなど）。ブリッジ経由の読み取り機を使ってください / this browser has no WebUSB (e.g. iPad): use a reader through the bridge",
            UsbError::NoDevice => "カードリーダーが選ばれていません。「カードリーダーを接続」を押してください / no reader chosen: press “connect a card reader”",
            UsbError::NotSony => "この読み取り機はブラウザから直接使えません（CCID）。ブリッジ経由で使ってください / this reader (CCID) works only through the bridge",
            UsbError::Busy => "カードリーダーを開けません：別のタブか、OSのドライバ（Linuxの port100 など）が使用中です / the reader is busy: another tab or the OS driver (e.g. Linux port100) holds it",
            UsbError::CardAbsent => "カードがありません。カードをリーダーに置いてください / no card: place the card on the reader",
            UsbError::Card(m) => return f.write_str(m),
        })
    }
}

fn usb() -> Result<web_sys::Usb, UsbError> {
    let navigator = web_sys::window().ok_or(UsbError::NoWebUsb)?.navigator();
    let usb = js_sys::Reflect::get(&navigator, &JsValue::from_str("usb"))
        .map_err(|_| UsbError::NoWebUsb)?;
    if usb.is_undefined() || usb.is_null() {
        return Err(UsbError::NoWebUsb);
    }
    Ok(usb.unchecked_into())
}

fn filters() -> Vec<web_sys::UsbDeviceFilter> {
    card::reader::port100::PRODUCTS
        .iter()
        .chain(card::reader::rcs300::PRODUCTS.iter())
        .map(|product| {
            let f = web_sys::UsbDeviceFilter::new();
            f.set_vendor_id(card::reader::port100::VENDOR);
            f.set_product_id(*product);
            f
        })
        .collect()
}

/// Asks the user to choose a Sony reader (must run inside a click).
pub async fn request() -> Result<web_sys::UsbDevice, UsbError> {
    let options = web_sys::UsbDeviceRequestOptions::new(&filters());
    let device =
        JsFuture::from(usb()?.request_device(&options)).await.map_err(|_| UsbError::NoDevice)?;
    Ok(device.unchecked_into())
}

/// A Sony reader the user granted earlier, if one is plugged in.
pub async fn granted() -> Result<Option<web_sys::UsbDevice>, UsbError> {
    let list = JsFuture::from(usb()?.get_devices()).await.map_err(|_| UsbError::NoWebUsb)?;
    let list: js_sys::Array = list.unchecked_into();
    Ok(list
        .iter()
        .map(|d| d.unchecked_into::<web_sys::UsbDevice>())
        .find(|d| Model::of(d.vendor_id(), d.product_id()).is_some()))
}

/// Calls `on_change` when a reader is plugged in or out.
pub fn watch(on_change: impl Fn() + 'static) {
    let Ok(usb) = usb() else { return };
    let handler = Closure::<dyn Fn(JsValue)>::new(move |_| on_change());
    usb.set_onconnect(Some(handler.as_ref().unchecked_ref()));
    usb.set_ondisconnect(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
}

/// Bulk transfers on one claimed interface.
#[derive(Debug)]
pub struct WebUsbPipe {
    device: web_sys::UsbDevice,
    out_ep: u8,
    in_ep: u8,
}

fn io(e: JsValue) -> TransportError {
    let text = e
        .as_string()
        .or_else(|| js_sys::Reflect::get(&e, &"message".into()).ok().and_then(|m| m.as_string()));
    match text {
        Some(t) if t.contains("disconnected") || t.contains("No device") => {
            TransportError::ReaderGone
        }
        Some(t) => TransportError::Io(t),
        None => TransportError::Io("USB transfer failed".into()),
    }
}

impl UsbPipe for WebUsbPipe {
    async fn transfer_out(&mut self, data: &[u8]) -> Result<(), TransportError> {
        let promise = self.device.transfer_out_with_u8_slice(self.out_ep, data).map_err(io)?;
        JsFuture::from(promise).await.map_err(io)?;
        Ok(())
    }

    async fn transfer_in(
        &mut self,
        max: usize,
        timeout_ms: u32,
    ) -> Result<Vec<u8>, TransportError> {
        let transfer = self.device.transfer_in(self.in_ep, max as u32);
        let timer = js_sys::Promise::new(&mut |resolve, _| {
            if let Some(w) = web_sys::window() {
                let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
                    &resolve,
                    timeout_ms as i32,
                );
            }
        });
        let race = js_sys::Promise::race(&js_sys::Array::of2(&transfer, &timer));
        let result = JsFuture::from(race).await.map_err(io)?;
        if result.is_undefined() {
            return Err(TransportError::Io("timeout".into()));
        }
        let result: web_sys::UsbInTransferResult = result.unchecked_into();
        let data = result.data().ok_or_else(|| TransportError::Io("no data".into()))?;
        let bytes = js_sys::Uint8Array::new_with_byte_offset_and_length(
            &data.buffer(),
            data.byte_offset() as u32,
            data.byte_length() as u32,
        );
        Ok(bytes.to_vec())
    }
}

/// An activated card on the page's own reader.
#[derive(Debug)]
pub enum UsbCard {
    Rcs380(IsoDep<Port100<WebUsbPipe>>),
    Rcs300(IsoDep<RcS300<WebUsbPipe>>),
}

impl Transport for UsbCard {
    async fn transmit(
        &mut self,
        command: &card::apdu::Command,
    ) -> Result<card::apdu::Response, TransportError> {
        match self {
            UsbCard::Rcs380(c) => c.transmit(command).await,
            UsbCard::Rcs300(c) => c.transmit(command).await,
        }
    }
}

fn rf(e: RfError) -> UsbError {
    match e {
        RfError::Timeout => UsbError::CardAbsent,
        other => UsbError::Card(other.to_string()),
    }
}

/// Opens `device`, claims the model's interface and activates the card in the field.
pub async fn open(device: &web_sys::UsbDevice) -> Result<(Model, UsbCard), UsbError> {
    let model = Model::of(device.vendor_id(), device.product_id()).ok_or(UsbError::NotSony)?;
    let (interface, out_ep, in_ep) = model.endpoints();
    if !device.opened() {
        JsFuture::from(device.open()).await.map_err(|_| UsbError::Busy)?;
    }
    if device.configuration().is_none() {
        JsFuture::from(device.select_configuration(1)).await.map_err(|_| UsbError::Busy)?;
    }
    if let Err(e) = JsFuture::from(device.claim_interface(interface)).await {
        let name = js_sys::Reflect::get(&e, &"name".into()).ok().and_then(|n| n.as_string());
        return Err(if name.as_deref() == Some("SecurityError") {
            UsbError::NotSony
        } else {
            UsbError::Busy
        });
    }
    let pipe = WebUsbPipe { device: device.clone(), out_ep, in_ep };
    let card = match model {
        Model::Rcs380 => {
            let mut reader = Port100::new(pipe);
            reader.init().await.map_err(rf)?;
            UsbCard::Rcs380(IsoDep::activate(reader).await.map_err(rf)?)
        }
        Model::Rcs300 => UsbCard::Rcs300(IsoDep::activate(RcS300::new(pipe)).await.map_err(rf)?),
    };
    Ok((model, card))
}

/// Closes the reader when the page is hidden or left, so another tab or app can use it.
pub fn release_on_page_hide() {
    let Some(window) = web_sys::window() else { return };
    let handler = Closure::<dyn Fn()>::new(|| {
        if let Some(device) = device() {
            wasm_bindgen_futures::spawn_local(async move { release(&device).await });
        }
    });
    let _ = window.add_event_listener_with_callback("pagehide", handler.as_ref().unchecked_ref());
    handler.forget();
}

/// Releases the interface (page hidden, or done).
pub async fn release(device: &web_sys::UsbDevice) {
    if device.opened() {
        let _ = JsFuture::from(device.close()).await;
    }
}

thread_local! {
    static DEVICE: std::cell::RefCell<Option<web_sys::UsbDevice>> = const { std::cell::RefCell::new(None) };
}

/// The reader this page uses, if one is chosen.
pub fn device() -> Option<web_sys::UsbDevice> {
    DEVICE.with(|d| d.borrow().clone())
}

pub fn set_device(device: Option<web_sys::UsbDevice>) {
    DEVICE.with(|d| *d.borrow_mut() = device);
}

/// The chosen reader's name.
pub fn device_name() -> Option<&'static str> {
    device().and_then(|d| Model::of(d.vendor_id(), d.product_id())).map(Model::name)
}

async fn with_card<T>(f: impl AsyncFnOnce(&mut UsbCard) -> Result<T, String>) -> Result<T, String> {
    let device = device().ok_or_else(|| UsbError::NoDevice.to_string())?;
    let result = match open(&device).await {
        Ok((_, mut card)) => f(&mut card).await,
        Err(e) => Err(e.to_string()),
    };
    release(&device).await;
    result
}

/// `check` on the page's own reader: the same report the bridge sends.
pub async fn check(
    policy: Option<std::sync::Arc<eligibility::Policy>>,
) -> Result<card::ops::CheckReport, String> {
    let policy = policy.ok_or("ルール表がありません / no policy table")?;
    let today = crate::ids::today_jst().ok_or("clock")?;
    with_card(async |card: &mut UsbCard| {
        card::ops::check(card, &policy, today).await.map_err(|e| e.to_string())
    })
    .await
}
