# Asterisk 22 from Debian's own package (only in sid), with the project's sandbox configuration.
FROM debian:sid-slim
RUN echo 'Acquire::Check-Valid-Until "false";' > /etc/apt/apt.conf.d/99no-check-valid \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends asterisk asterisk-core-sounds-en-wav \
 && rm -rf /var/lib/apt/lists/*
COPY asterisk-conf/*.conf dialplan/*.conf /etc/asterisk/
# In compose the companion shares this container's network namespace, so loopback binds still work.
RUN chown -R asterisk:asterisk /etc/asterisk /var/lib/asterisk /var/spool/asterisk /var/log/asterisk /var/run/asterisk
EXPOSE 5060/udp 20000-21999/udp
CMD ["/usr/sbin/asterisk", "-f", "-U", "asterisk", "-G", "asterisk"]
