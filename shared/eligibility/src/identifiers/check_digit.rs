//! The 検証番号 of MHLW's 保険者番号等の設定要領, shared by 保険者番号, 公費負担者番号 and
//! (per secondary sources) 受給者番号.

/// The check digit for `body` (ASCII digits, without the check digit): weights 2,1,2,1…
/// from the rightmost body digit, the digit sum of each two-digit product, then
/// `10 − (sum mod 10)`, or 0 when the sum ends in 0. Non-digit bytes count as 0; callers
/// validate digits first.
pub fn check_digit(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let digit = u32::from(b.wrapping_sub(b'0') % 10);
            let product = if i % 2 == 0 { digit * 2 } else { digit };
            product / 10 + product % 10
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

#[cfg(test)]
mod tests {
    use super::check_digit;

    #[test]
    fn worked_example() {
        // 0113001: 1×2=2, 0, 0×2=0, 3, 1×2=2, 1, 0×2=0 → 8 → 10−8 = 2.
        assert_eq!(check_digit(b"0113001"), 2);
        assert_eq!(check_digit(b"7777777"), 9);
        assert_eq!(check_digit(b""), 0);
    }
}
