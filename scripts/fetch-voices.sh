#!/usr/bin/env bash
# Fetches real recorded voices for the CPA corpus generator (scripts/make-cpa-cases.ts): Debian's Asterisk prompt
# packages, eight talents in six languages, and Asterisk's music on hold (music beds). Nothing of it is committed
# or shipped: the licences (CC-BY-SA-3.0 for the core sounds, the Menardi prompts and the music; GPL-2 for the
# Armelle and Colombian prompts) travel with the files, in each folder's COPYRIGHT.
#
#   scripts/fetch-voices.sh [DIR]     (default /var/cache/dialplan-companion/voices; about 130 MB of .deb, once)
#
# Result: DIR/<talent>/*.wav (8 kHz 16-bit mono, top-level prompts only, no tones), DIR/music/*.wav.
set -euo pipefail
DIR=${1:-/var/cache/dialplan-companion/voices}
# package -> "sounds sub-folder:talent name" (language_COUNTRY_gender_name, as Asterisk names its own)
declare -A TALENTS=(
  [asterisk-core-sounds-en-wav]="en_US_f_Allison:en_US_f_Allison"
  [asterisk-core-sounds-es-wav]="es_MX_f_Allison:es_MX_f_Allison"
  [asterisk-core-sounds-fr-wav]="fr_CA_f_June:fr_CA_f_June"
  [asterisk-core-sounds-it-wav]="it_IT_m_Carlo:it_IT_m_Carlo"
  [asterisk-core-sounds-ru-wav]="ru_RU_f_IvrvoiceRU:ru_RU_f_IvrvoiceRU"
  [asterisk-prompt-it-menardi-wav]="it_IT_f_Menardi:it_IT_f_Menardi"
  [asterisk-prompt-fr-armelle]="fr:fr_FR_f_Armelle"
  [asterisk-prompt-es-co]="es:es_CO_f_July"
)
if [ -f "$DIR/.complete" ]; then
  echo "fetch-voices: $DIR already complete" >&2
  exit 0
fi
command -v sox >/dev/null || { echo "fetch-voices: needs sox (scripts/setup.sh installs it)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download "${!TALENTS[@]}" asterisk-moh-opsound-wav >/dev/null 2>&1 || {
  echo "fetch-voices: apt-get download failed (apt-get update first?)" >&2
  exit 1
}
mkdir -p "$DIR"
for pkg in "${!TALENTS[@]}"; do
  sub=${TALENTS[$pkg]%%:*}
  name=${TALENTS[$pkg]##*:}
  mkdir -p "x/$pkg" "$DIR/$name"
  dpkg-deb -x "$pkg"_*.deb "x/$pkg"
  src="x/$pkg/usr/share/asterisk/sounds/$sub"
  n=0
  for f in "$src"/*.wav "$src"/*.gsm; do
    [ -f "$f" ] || continue
    base=$(basename "${f%.*}")
    # prompts only: beeps and tones are not speech
    case "$base" in *beep* | *tone* | *dtmf* | silence*) continue ;; esac
    sox -q -D "$f" -r 8000 -c 1 -b 16 "$DIR/$name/$base.wav"
    n=$((n + 1))
  done
  cp "x/$pkg"/usr/share/doc/*/copyright "$DIR/$name/COPYRIGHT"
  echo "fetch-voices: $name: $n prompts" >&2
done
mkdir -p x/moh "$DIR/music"
dpkg-deb -x asterisk-moh-opsound-wav_*.deb x/moh
for f in x/moh/usr/share/asterisk/moh/*.wav; do sox -q -D "$f" -r 8000 -c 1 -b 16 "$DIR/music/$(basename "$f")"; done
cp x/moh/usr/share/doc/*/copyright "$DIR/music/COPYRIGHT"
touch "$DIR/.complete"
echo "fetch-voices: done in $DIR" >&2
