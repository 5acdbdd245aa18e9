//! A simulated Sony USB reader for browser tests and demos (`serve --simulate-usb-reader
//! rcs380:yamada`), never on by default. A `navigator.usb` stand-in injected into the page
//! forwards its bulk transfers here; the bytes meet the same simulated reader and virtual
//! card the card crate's tests use. Routes `POST /dev/usb/out|in|card` (Host and Origin
//! checked like every API call).

use card::reader::sim::{SimPicc, SimPort100, SimRcS300};
use card::reader::UsbPipe;
use card::virtual_card::{TestPerson, TestPki, VirtualCard};
use std::sync::{Arc, Mutex};

/// The simulated reader and the card in its field.
#[derive(Debug)]
pub enum DevUsb {
    Rcs380(SimPort100),
    Rcs300(SimRcS300),
}

impl DevUsb {
    /// `rcs380:PERSON` or `rcs300:PERSON`.
    pub fn from_spec(spec: &str, today: eligibility::Date) -> Result<DevUsb, String> {
        let (model, person) = spec.split_once(':').ok_or("use MODEL:PERSON, e.g. rcs380:yamada")?;
        let picc = new_picc(person, today)?;
        match model {
            "rcs380" => Ok(DevUsb::Rcs380(SimPort100::new(Some(picc)))),
            "rcs300" => Ok(DevUsb::Rcs300(SimRcS300::new(Some(picc)))),
            other => Err(format!("unknown reader model {other:?}: rcs380 or rcs300")),
        }
    }

    /// USB product id the stand-in should announce.
    pub fn product_id(&self) -> u16 {
        match self {
            DevUsb::Rcs380(_) => card::reader::port100::PRODUCTS[1],
            DevUsb::Rcs300(_) => card::reader::rcs300::PRODUCTS[0],
        }
    }

    fn picc(&mut self) -> &mut Option<SimPicc> {
        match self {
            DevUsb::Rcs380(r) => &mut r.picc,
            DevUsb::Rcs300(r) => &mut r.picc,
        }
    }

    pub fn out(&mut self, data: &[u8]) -> Result<(), String> {
        let r = match self {
            DevUsb::Rcs380(r) => pollster::block_on(r.transfer_out(data)),
            DevUsb::Rcs300(r) => pollster::block_on(r.transfer_out(data)),
        };
        r.map_err(|e| e.to_string())
    }

    pub fn take_in(&mut self) -> Option<Vec<u8>> {
        let r = match self {
            DevUsb::Rcs380(r) => pollster::block_on(r.transfer_in(512, 0)),
            DevUsb::Rcs300(r) => pollster::block_on(r.transfer_in(512, 0)),
        };
        r.ok()
    }

    /// `remove`, `insert PERSON`, or `leave_after N` (frames from now).
    pub fn card(&mut self, action: &str, today: eligibility::Date) -> Result<(), String> {
        let mut words = action.split_whitespace();
        match (words.next(), words.next()) {
            (Some("remove"), _) => *self.picc() = None,
            (Some("insert"), Some(person)) => *self.picc() = Some(new_picc(person, today)?),
            (Some("leave_after"), Some(n)) => {
                let n: usize = n.parse().map_err(|_| "leave_after needs a number")?;
                if let Some(p) = self.picc().as_mut() {
                    p.leaves_after = Some(p.frames_seen() + n);
                }
            }
            _ => return Err(format!("unknown card action {action:?}")),
        }
        Ok(())
    }
}

fn new_picc(person: &str, today: eligibility::Date) -> Result<SimPicc, String> {
    let pki = TestPki::new(today).map_err(|e| e.to_string())?;
    let person = TestPerson::find(person).ok_or_else(|| format!("no test person {person:?}"))?;
    Ok(SimPicc::new(VirtualCard::new(&pki, person).map_err(|e| e.to_string())?))
}

pub type Shared = Arc<Mutex<DevUsb>>;
