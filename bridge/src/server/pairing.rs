//! Pairing a tablet without typing: the link a QR code carries, the QR itself (for the
//! terminal and for paper), and the printed set-up sheet.
//!
//! The link opens the office page's 設定 with everything in the fragment, which never
//! reaches a server log: `https://<lan>:<port>/office.html#pair=<code>&ca=<sha256>&name=<name>`.
//! The page compares `ca` with the fingerprint the bridge states on `/health` before it
//! pairs, and keeps it (see `frontend/src/state.rs`, the pinned CA).

use qrcode::render::{svg, unicode};
use qrcode::{EcLevel, QrCode};

/// What a pairing QR code holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairingLink {
    /// The LAN name or address tablets use (the first `lan_name`).
    pub host: String,
    pub port: u16,
    /// The one-time 8-digit code.
    pub code: String,
    /// The local CA's SHA-256 ([`super::tls::ca_fingerprint`]).
    pub ca_sha256: String,
    /// The name the tablet pairs under (ASCII letters, digits and `-`, so the link needs no
    /// escaping; staff can rename it in 設定 before tapping).
    pub device_name: String,
}

impl PairingLink {
    pub fn url(&self) -> String {
        let host = if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!(
            "https://{host}:{}/office.html#pair={}&ca={}&name={}",
            self.port, self.code, self.ca_sha256, self.device_name
        )
    }
}

/// A device name safe in the link as it is.
pub fn link_safe_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .filter_map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' => Some(c),
            ' ' | '_' => Some('-'),
            _ => None,
        })
        .take(40)
        .collect();
    if safe.is_empty() {
        "tablet".into()
    } else {
        safe
    }
}

fn code_of(text: &str) -> anyhow::Result<QrCode> {
    // Level M: a printed sheet survives a crease or a smudge.
    Ok(QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)?)
}

/// The QR code as text for a terminal window (two rows of modules per line).
pub fn qr_for_terminal(text: &str) -> anyhow::Result<String> {
    Ok(code_of(text)?
        .render::<unicode::Dense1x2>()
        .dark_color(unicode::Dense1x2::Light)
        .light_color(unicode::Dense1x2::Dark)
        .quiet_zone(true)
        .build())
}

/// The QR code as an SVG element (for the set-up sheet and the kiosk).
pub fn qr_svg(text: &str) -> anyhow::Result<String> {
    Ok(code_of(text)?.render::<svg::Color<'_>>().min_dimensions(240, 240).quiet_zone(true).build())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The printed set-up sheet: how to install the CA on an Android tablet, the fingerprint to
/// compare, and the pairing QR code (valid until `valid_until`, once).
pub fn setup_sheet(link: &PairingLink, valid_until: &str) -> anyhow::Result<String> {
    let url = link.url();
    let qr = qr_svg(&url)?;
    let fingerprint = super::tls::fingerprint_for_people(&link.ca_sha256);
    Ok(format!(
        r#"<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>窓口 madoguchi — タブレットの設定 / tablet set-up</title>
<style>
body {{ font-family: "IPAGothic", sans-serif; font-size: 12pt; line-height: 1.6; max-width: 180mm; margin: 10mm auto; color: #111; }}
h1 {{ font-size: 18pt; }} h2 {{ font-size: 14pt; margin-top: 1.2em; }}
ol li {{ margin: .3em 0; }} .en {{ color: #444; font-size: 10pt; }}
.fp {{ font-family: monospace; font-size: 11pt; word-break: break-all; border: 1px solid #444; padding: 4px; }}
.qr {{ text-align: center; margin: 1em 0; }} .qr svg {{ width: 60mm; height: 60mm; }}
@media print {{ .noprint {{ display: none; }} }}
</style></head>
<body data-testid="setup-sheet">
<h1>薬局・診療所のタブレットを窓口につなぐ <span class="en">Connecting a tablet to madoguchi</span></h1>
<p>このタブレットは院内LANだけで受付ブリッジ（{host}）と暗号化して通信します。最初に一度だけ、ブリッジの「証明書（CA）」をタブレットに入れてください。
<span class="en">The tablet talks to the bridge ({host}) over HTTPS on the clinic LAN only. Install the bridge's CA once.</span></p>

<h2>1. CA証明書をタブレットに入れる <span class="en">Install the CA certificate</span></h2>
<ol>
<li>受付PCで <code>bridge tls export-ca &gt; madoguchi-ca.crt</code> を実行し、ファイルをタブレットへ移します（院内のUSBメモリは使わず、共有フォルダかケーブルで）。<span class="en">Export the CA and copy the file to the tablet (shared folder or cable).</span></li>
<li>タブレットの「設定」→「セキュリティとプライバシー」→「その他のセキュリティ設定」→「暗号化と認証情報」→「証明書のインストール」→「CA証明書」を開きます（機種により名前が少し違います）。<span class="en">Settings → Security &amp; privacy → More security settings → Encryption &amp; credentials → Install a certificate → CA certificate.</span></li>
<li>警告が出たら「インストールする」を選び、<code>madoguchi-ca.crt</code> を選びます。画面ロックの確認を求められたら入力します。<span class="en">Confirm "Install anyway", pick the file, confirm the screen lock.</span></li>
<li>「信頼できる認証情報」→「ユーザー」に <b>madoguchi bridge local CA</b> があることを確かめ、開いて SHA-256 フィンガープリントが下の値と同じか一文字ずつ確認します。違っていたら使わず、削除してください。<span class="en">Under Trusted credentials → User, open "madoguchi bridge local CA" and compare its SHA-256 fingerprint with this one. Different: remove it.</span></li>
</ol>
<p class="fp" data-testid="setup-fingerprint">SHA-256: {fingerprint}</p>

<h2>2. QRコードでペアリング <span class="en">Pair by scanning the QR code</span></h2>
<p>タブレットのカメラでこのQRコードを読み、Chromeで開きます。画面が指紋を確かめて自動でペアリングします。このコードは <b>{valid_until}</b> まで・1回だけ有効です。期限が過ぎたら受付PCで <code>bridge pair --qr</code> を実行してください（8桁の番号を「設定」に入力しても同じです）。
<span class="en">Scan with the camera and open in Chrome: the page checks the fingerprint and pairs. Valid once, until {valid_until}; after that run <code>bridge pair --qr</code> (or type the 8-digit code in 設定).</span></p>
<div class="qr" data-testid="setup-qr">{qr}</div>
<p class="en" data-testid="setup-url">{url}</p>

<h2>3. ホーム画面に追加 <span class="en">Add to the home screen</span></h2>
<p>Chromeのメニュー「︙」→「アプリをインストール」（または「ホーム画面に追加」）。以後はアイコンから開けば、Wi-Fiが切れても受付を記録でき、つながったときに送られます。
<span class="en">Chrome menu → Install app. Opened from its icon it records receptions while the Wi-Fi is down and sends them when it is back.</span></p>
<p>証明書がうまく入らない・「接続はプライベートではありません」と出る：手順1をやり直し、指紋を確認してください。ブリッジのCAを作り直した（<code>bridge tls rotate --ca</code>）ときは、すべてのタブレットで手順1と2をやり直します。
<span class="en">"Your connection is not private": repeat step 1. After <code>bridge tls rotate --ca</code> every tablet repeats steps 1 and 2.</span></p>
</body></html>
"#,
        host = escape(&link.host),
        url = escape(&url),
        valid_until = escape(valid_until),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link() -> PairingLink {
        PairingLink {
            host: "10.77.0.1".into(),
            port: 8443,
            code: "01234567".into(),
            ca_sha256: "AB".repeat(32),
            device_name: link_safe_name("薬局 tablet_1"),
        }
    }

    #[test]
    fn the_link_opens_settings_with_everything_in_the_fragment() {
        let url = link().url();
        assert_eq!(
            url,
            format!(
                "https://10.77.0.1:8443/office.html#pair=01234567&ca={}&name=-tablet-1",
                "AB".repeat(32)
            )
        );
        let v6 = PairingLink { host: "fd00::1".into(), ..link() };
        assert!(v6.url().starts_with("https://[fd00::1]:8443/"));
        assert_eq!(link_safe_name("受付"), "tablet");
    }

    #[test]
    fn the_qr_code_and_the_sheet_carry_the_link_and_fingerprint() {
        let svg = qr_svg(&link().url()).unwrap();
        assert!(svg.starts_with("<?xml") || svg.contains("<svg"));
        let text = qr_for_terminal(&link().url()).unwrap();
        assert!(text.lines().count() > 20, "{text}");
        let sheet = setup_sheet(&link(), "2026-12-02 10:00").unwrap();
        assert!(sheet.contains(&super::super::tls::fingerprint_for_people(&"AB".repeat(32))));
        assert!(sheet.contains("pair=01234567&amp;ca="));
        assert!(sheet.contains("2026-12-02 10:00"));
    }
}
