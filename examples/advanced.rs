//! The seed README's advanced example, with only its `use` lines changed and the two
//! bindings it leaves undefined (`bind_addr`, `client_mac`) defined.
#![allow(unused_variables)] // the seed binds `renewed` without using it
use dhcp::Client;
use dhcp::MacAddress;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

#[rustfmt::skip]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bind_addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 68);
    let client_mac = MacAddress::new([0x00, 0x11, 0x22, 0x33, 0x44, 0x55]);
    let mut client = Client::new(
        bind_addr,
        client_mac,
        None, // client_id
        Some("rust-dhcp-client".to_string()),
        None, // server_address (broadcast)
        None, // max_message_size
        true, // use broadcast
    ).await?;

    // Full DHCP operations
    let config = client.discover(None, Some(7200)).await?; // Request 2-hour lease
    println!("Got lease: {}", config.your_ip_address);
    
    // Renew the lease
    let renewed = client.renew(config.your_ip_address, config.server_ip_address).await?;
    
    // Release when done
    client.release(config.your_ip_address, config.server_ip_address, None).await?;
    
    Ok(())
}
